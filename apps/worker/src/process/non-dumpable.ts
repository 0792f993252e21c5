import { load } from 'koffi';

const PR_SET_DUMPABLE = 4;
const PR_GET_DUMPABLE = 3;

type Prctl = (option: number, arg2: number, arg3: number, arg4: number, arg5: number) => number;

let prctl: Prctl | undefined;

function libcPrctl(): Prctl {
  // koffi ships its native part prebuilt inside its npm packages (@koromix/koffi-<platform>): no install script,
  // no compiler, no download. Node itself has no prctl.
  prctl ??= load('libc.so.6').func('int prctl(int option, unsigned long arg2, unsigned long arg3, unsigned long arg4, unsigned long arg5)') as Prctl;
  return prctl;
}

/**
 * prctl(PR_SET_DUMPABLE, 0): the kernel then makes /proc/<worker>/{environ,mem,maps,fd,...} root's and refuses
 * ptrace from the worker's own uid. It matters most where the agent shares the worker's uid (not root); as root
 * it is the second lock behind the uid switch. Children get it back at execve, so the agent is unaffected.
 * Returns whether the worker is now not dumpable; a platform without it (not Linux) gets false.
 */
export function makeNonDumpable(): boolean {
  if (process.platform !== 'linux') return false;
  const call = libcPrctl();
  if (call(PR_SET_DUMPABLE, 0, 0, 0, 0) !== 0) return false;
  return call(PR_GET_DUMPABLE, 0, 0, 0, 0) === 0;
}

export function isDumpable(): boolean {
  return process.platform !== 'linux' || libcPrctl()(PR_GET_DUMPABLE, 0, 0, 0, 0) !== 0;
}
