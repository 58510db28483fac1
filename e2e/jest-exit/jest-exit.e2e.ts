import { spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import type { Readable } from 'node:stream';
import Dockerode from 'dockerode';
import { repoRoot } from '../support/env';
import { createTestImage, removeImage } from '../support/images';
import { describeOpenHandles } from '../support/open-handles';
import { loadImage, saveImage } from '../support/registry-engine';

/**
 * The e2e run ends by itself: jest's main process exits when the tests are done (no
 * --forceExit), and when something is left open, the teardown's watchdog names it.
 */

const fixtures = path.join(__dirname, 'fixtures');
const jestBin = path.join(repoRoot, 'node_modules', 'jest', 'bin', 'jest.js');

interface NestedRun {
  code: number | null;
  stderr: string;
  /** Whether it had to be killed at the deadline. */
  killed: boolean;
}

/**
 * Runs one fixture in a jest of its own; kills it when `stderr` matches `until` or at the
 * deadline, and waits for it to end.
 */
function runNestedJest(fixture: string, deadlineMs: number, until?: RegExp): Promise<NestedRun> {
  const child = spawn(
    process.execPath,
    [jestBin, '--config', path.join(fixtures, 'jest.config.js'), '--ci', '--no-colors', '--testPathPatterns', fixture],
    // Plain text whatever the outer run's colour settings (CI sets FORCE_COLOR).
    { cwd: repoRoot, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, FORCE_COLOR: '0' } },
  );
  let stderr = '';
  let killed = false;
  const kill = () => {
    killed = true;
    child.kill('SIGKILL');
  };
  const timer = setTimeout(kill, deadlineMs);
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
    if (until?.test(stderr) && !killed) kill();
  });
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr, killed });
    });
  });
}

it('jest exits by itself, with code 1, after a failing test', async () => {
  const run = await runNestedJest('fails', 120_000);
  expect(run.killed).toBe(false);
  expect(run.code).toBe(1);
  expect(run.stderr).toContain('Expected: "what it wanted"');
  expect(run.stderr).not.toContain('still alive');
});

it('the watchdog names a server left listening, with its address, and lets the run go on', async () => {
  const run = await runNestedJest('leaks', 120_000, /Server listening on 127\.0\.0\.1:\d+/);
  expect(run.stderr).toMatch(/jest's main process is still alive 1 s after the global teardown/);
  expect(run.stderr).toMatch(/ {2}- Server listening on 127\.0\.0\.1:\d+/);
  // Killed by this test once the handle was named: the watchdog itself ends nothing.
  expect(run.killed).toBe(true);
});

describe('describeOpenHandles', () => {
  it('names servers, connected sockets, child processes and timers; not unref’d ones', async () => {
    const server = net.createServer((socket) => socket.on('error', () => undefined));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as net.AddressInfo;
    const client = net.connect(port, '127.0.0.1');
    await new Promise<void>((resolve) => client.once('connect', resolve));
    const child = spawn('sleep', ['30'], { stdio: 'ignore' });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    const timer = setTimeout(() => undefined, 30_000);
    const unrefd = net.createServer();
    await new Promise<void>((resolve) => unrefd.listen(0, '127.0.0.1', resolve));
    unrefd.unref();
    try {
      const lines = describeOpenHandles();
      expect(lines).toContain(`Server listening on 127.0.0.1:${port}`);
      expect(lines).toContain(`Socket 127.0.0.1:${client.localPort} -> 127.0.0.1:${port}`);
      expect(lines).toContain(`ChildProcess pid ${child.pid} (sleep), not exited or not waited for`);
      expect(lines.some((line) => /^Timeout x\d+/.test(line))).toBe(true);
      expect(lines).not.toContain(`Server listening on 127.0.0.1:${(unrefd.address() as net.AddressInfo).port}`);
    } finally {
      clearTimeout(timer);
      child.kill('SIGKILL');
      await exited;
      client.destroy();
      await new Promise((resolve) => server.close(resolve));
      await new Promise((resolve) => unrefd.close(resolve));
    }
  });

  it('never shows what a child process was started with', () => {
    const child = {
      constructor: { name: 'ChildProcess' },
      pid: 7,
      exitCode: null,
      signalCode: null,
      spawnfile: 'docker',
      spawnargs: ['docker', 'login', '-p', 's3cret'],
    };
    expect(describeOpenHandles([child], [])).toEqual(['ChildProcess pid 7 (docker), not exited or not waited for']);
    // Exited: its handle is closing and holds nothing.
    expect(describeOpenHandles([{ ...child, exitCode: 0 }], [])).toEqual([]);
  });
});

describe('loading an image archive into the engine', () => {
  const docker = new Dockerode();
  const ref = `dockpush-e2e-jest-exit:${process.pid}-${Date.now().toString(36)}`;
  let archive: string;
  const loadRequests = () => describeOpenHandles().filter((line) => line.includes('HTTP POST /images/load'));

  beforeAll(async () => {
    await createTestImage(docker, ref, { layers: 1, bytesPerLayer: 1024 });
    archive = saveImage(ref);
  });
  afterAll(() => removeImage(docker, ref));

  it("through the engine API, leaves the connection open until its answer is read: the handle that kept jest's main process alive", async () => {
    await removeImage(docker, ref);
    const answer = (await docker.loadImage(archive)) as unknown as Readable;
    try {
      expect(loadRequests()).toHaveLength(1);
    } finally {
      answer.resume();
      await new Promise((resolve) => answer.once('end', resolve));
      // The socket goes back to the agent's pool once the answer has ended.
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(loadRequests()).toEqual([]);
  });

  it('with the loadImage of the e2e support, leaves nothing open', async () => {
    await removeImage(docker, ref);
    loadImage(archive);
    expect((await docker.getImage(ref).inspect()).RepoTags).toContain(ref);
    expect(loadRequests()).toEqual([]);
  });
});
