// Started by agent-isolation.spec.ts as the agent's uid: says whether it is dumpable, then waits to be probed.
import { isDumpable, makeNonDumpable } from '../../src/process/non-dumpable';

if (process.argv[2] === 'non-dumpable' && !makeNonDumpable()) throw new Error('prctl(PR_SET_DUMPABLE, 0) failed');
process.stdout.write(`ready ${process.pid} ${isDumpable() ? 1 : 0}\n`);
setInterval(() => undefined, 1_000);
