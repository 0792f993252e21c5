import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SpoolLauncher, type SpooledLaunch } from '../src/launch/spool.launcher';

/** WORKER_LAUNCHER=spool, the bench's launcher: the spool file stands for the worker process. */
describe('SpoolLauncher', () => {
  let spoolDir: string;
  let launcher: SpoolLauncher;
  const spec = {
    workerId: '0195e0a0-0000-7000-8000-000000000001',
    jobId: '0195e0a0-0000-7000-8000-0000000000aa',
    attempt: 1,
    workDir: '/nonexistent',
    env: { WORKER_ID: '0195e0a0-0000-7000-8000-000000000001', WORKER_TOKEN: 'launch-token', CONDUCTOR_GRPC_SERVER_ADDR: '127.0.0.1:1' },
  };

  beforeEach(async () => {
    spoolDir = join(await mkdtemp(join(tmpdir(), 'spool-launcher-')), 'spool');
    launcher = new SpoolLauncher({ workerSpoolDir: spoolDir });
  });
  afterEach(() => rm(join(spoolDir, '..'), { recursive: true, force: true }));

  it('hands the launch spec over in a file only the conductor user can read, and nothing else', async () => {
    const { handle } = await launcher.launch(spec);

    expect(await readdir(spoolDir)).toEqual([handle]);
    const file = join(spoolDir, handle);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect((await stat(spoolDir)).mode & 0o777).toBe(0o700);
    const launch = JSON.parse(await readFile(file, 'utf8')) as SpooledLaunch;
    expect(launch).toEqual({ workerId: spec.workerId, jobId: spec.jobId, attempt: 1, env: spec.env });
  });

  it('keeps the first launch of an attempt when it is launched again', async () => {
    const first = await launcher.launch(spec);
    const again = await launcher.launch({ ...spec, workerId: '0195e0a0-0000-7000-8000-000000000002', env: { ...spec.env, WORKER_TOKEN: 'other' } });

    expect(again.handle).toBe(first.handle);
    expect(await readdir(spoolDir)).toEqual([first.handle]);
    const launch = JSON.parse(await readFile(join(spoolDir, first.handle), 'utf8')) as SpooledLaunch;
    expect(launch.env['WORKER_TOKEN']).toBe('launch-token');
    const second = await launcher.launch({ ...spec, attempt: 2 });
    expect(second.handle).not.toBe(first.handle);
  });

  it('is alive while its file exists; stopping removes it; adoption finds only a live one', async () => {
    const { handle } = await launcher.launch(spec);
    const adoptable = { id: spec.workerId, jobId: spec.jobId, attempt: 1, launcherHandle: null };

    expect(await launcher.isAlive(handle)).toBe(true);
    expect(await launcher.adopt(adoptable)).toBe(handle);
    await launcher.stop(handle, 'test');
    expect(await launcher.isAlive(handle)).toBe(false);
    expect(await launcher.adopt(adoptable)).toBeNull();
  });
});
