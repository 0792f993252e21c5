import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buffer } from 'node:stream/consumers';
import { DirectoryResultStore, downloadAgentSession, resultArchiveName, resultSessionName } from './result-store';

const JOB_ID = '3f1c2a9e-7b4d-4e0a-9c1b-2d3e4f5a6b7c';
const WORKER_ID = '8a7b6c5d-4e3f-4a1b-8c9d-0e1f2a3b4c5d';
const KEY = { jobId: JOB_ID, workerId: WORKER_ID, attempt: 1 };

describe('DirectoryResultStore', () => {
  let root: string;
  let source: string;
  let content: Buffer;

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'directory-result-store-'));
    content = randomBytes(256 * 1024);
    source = join(root, 'upload.tar.gz');
    await writeFile(source, content);
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('copies the archive to <dir>/<jobId>/attempt-<n>-<workerId>.tar.gz, byte for byte, readable by the owner only', async () => {
    const store = new DirectoryResultStore({ directory: join(root, 'results') });

    const { location } = await store.store(KEY, source);

    expect(location).toBe(join(root, 'results', JOB_ID, `attempt-1-${WORKER_ID}.tar.gz`));
    expect((await readFile(location)).equals(content)).toBe(true);
    expect((await stat(location)).mode & 0o777).toBe(0o600);
    expect(await readdir(join(root, 'results', JOB_ID))).toEqual([`attempt-1-${WORKER_ID}.tar.gz`]);
    // The source stays: the caller owns it.
    expect((await readFile(source)).equals(content)).toBe(true);
  });

  it('keeps every attempt and replaces a repeated upload of the same attempt', async () => {
    const store = new DirectoryResultStore({ directory: join(root, 'results') });
    await store.store(KEY, source);
    await store.store({ ...KEY, attempt: 2 }, source);
    const second = Buffer.from('second upload');
    await writeFile(source, second);
    const { location } = await store.store(KEY, source);

    expect((await readdir(join(root, 'results', JOB_ID))).sort()).toEqual([`attempt-1-${WORKER_ID}.tar.gz`, `attempt-2-${WORKER_ID}.tar.gz`]);
    expect((await readFile(location)).equals(second)).toBe(true);
  });

  it.each([
    [{ ...KEY, jobId: '../escape' }, /invalid jobId/],
    [{ ...KEY, jobId: '..' }, /invalid jobId/],
    [{ ...KEY, jobId: '' }, /invalid jobId/],
    [{ ...KEY, workerId: 'w/../../x' }, /invalid workerId/],
    [{ ...KEY, attempt: 1.5 }, /invalid attempt/],
  ])('rejects %o without writing anything', async (key, message) => {
    const store = new DirectoryResultStore({ directory: join(root, 'results') });
    await expect(store.store(key, source)).rejects.toThrow(message);
    await expect(stat(join(root, 'results'))).rejects.toThrow(/ENOENT/);
    expect(await readdir(root)).toEqual(['upload.tar.gz']);
  });

  it('leaves no partial file when the source cannot be read', async () => {
    const store = new DirectoryResultStore({ directory: join(root, 'results') });
    await expect(store.store(KEY, join(root, 'absent.tar.gz'))).rejects.toThrow(/ENOENT/);
    expect(await readdir(join(root, 'results', JOB_ID))).toEqual([]);
  });

  it('opens a stored archive as a stream, and answers undefined for an attempt it does not have', async () => {
    const store = new DirectoryResultStore({ directory: join(root, 'results') });
    await store.store(KEY, source);
    const stream = await store.open(KEY);
    expect(stream ? (await buffer(stream)).equals(content) : false).toBe(true);
    await expect(store.open({ ...KEY, attempt: 2 })).resolves.toBeUndefined();
    await expect(store.open({ ...KEY, jobId: '../escape' })).rejects.toThrow(/invalid jobId/);
  });

  it('keeps the agent session beside the archive, each opened on its own, and none for an attempt stored without one', async () => {
    const store = new DirectoryResultStore({ directory: join(root, 'results') });
    const session = Buffer.from('session bytes');
    const sessionSource = join(root, 'session.tar.gz');
    await writeFile(sessionSource, session);
    await store.store(KEY, source);
    await store.store({ ...KEY, attempt: 2 }, source);

    const { location } = await store.storeSession(KEY, sessionSource);

    expect(location).toBe(join(root, 'results', JOB_ID, `attempt-1-${WORKER_ID}.agent-session.tar.gz`));
    expect((await stat(location)).mode & 0o777).toBe(0o600);
    const opened = await store.openSession(KEY);
    expect(opened ? (await buffer(opened)).equals(session) : false).toBe(true);
    const archive = await store.open(KEY);
    expect(archive ? (await buffer(archive)).equals(content) : false).toBe(true);
    await expect(store.openSession({ ...KEY, attempt: 2 })).resolves.toBeUndefined();
    await expect(store.storeSession({ ...KEY, workerId: '../x' }, sessionSource)).rejects.toThrow(/invalid workerId/);
  });

  it('downloads the session object when there is one, else (none, or an empty one) the whole archive', async () => {
    const store = new DirectoryResultStore({ directory: join(root, 'results') });
    const sessionSource = join(root, 'session.tar.gz');
    const target = (name: string): string => join(root, name);
    await expect(downloadAgentSession(store, KEY, target('nothing'))).resolves.toBeUndefined();
    await store.store(KEY, source);
    await expect(downloadAgentSession(store, KEY, target('old'))).resolves.toBe('archive');
    expect((await readFile(target('old'))).equals(content)).toBe(true);
    await writeFile(sessionSource, '');
    await store.storeSession(KEY, sessionSource);
    await expect(downloadAgentSession(store, KEY, target('empty'))).resolves.toBe('archive');
    expect((await readFile(target('empty'))).equals(content)).toBe(true);
    await writeFile(sessionSource, 'session bytes');
    await store.storeSession(KEY, sessionSource);
    await expect(downloadAgentSession(store, KEY, target('new'))).resolves.toBe('session-object');
    expect(await readFile(target('new'), 'utf8')).toBe('session bytes');
    expect((await stat(target('new'))).mode & 0o777).toBe(0o600);
  });

  it('names archives the same way as the S3 store', () => {
    expect(resultSessionName({ jobId: 'job-1', workerId: 'worker_2', attempt: 7 })).toBe('job-1/attempt-7-worker_2.agent-session.tar.gz');
    expect(resultArchiveName({ jobId: 'job-1', workerId: 'worker_2', attempt: 7 })).toBe('job-1/attempt-7-worker_2.tar.gz');
  });
});
