import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RegistryAuthError } from '../errors';
import { runCredentialHelper } from './credential-helper';

/** A directory holding `docker-credential-<name>` scripts, and an env that finds them. */
function helpers(scripts: Record<string, string>) {
  const dir = mkdtempSync(join(tmpdir(), 'dockpush-helper-'));
  for (const [name, script] of Object.entries(scripts)) {
    const path = join(dir, `docker-credential-${name}`);
    writeFileSync(path, `#!/bin/sh\n${script}\n`);
    chmodSync(path, 0o755);
  }
  return { dir, env: { PATH: `${dir}:${process.env.PATH ?? ''}` } };
}

/** Running, not merely a zombie waiting for whoever adopted it to reap it. */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^\d+ \(.*\) [ZX]/.test(stat);
  } catch {
    return false;
  }
}

const SECRET = 'Helper-Secret-Leaks-9';

describe('runCredentialHelper', () => {
  it('answers when the helper exits although a child it left behind holds its output open', async () => {
    const { dir, env } = helpers({
      forks: `read host; sleep 300 & echo $! > "$(dirname "$0")/child"; echo '{"Username":"u","Secret":"forked-secret-1"}'`,
    });
    const started = Date.now();
    await expect(runCredentialHelper('forks', 'r.example.com', env, { timeoutMs: 20_000 })).resolves.toEqual({
      username: 'u',
      secret: 'forked-secret-1',
    });
    expect(Date.now() - started).toBeLessThan(5_000);
    // The child left behind was killed with the helper's process group.
    const child = Number(readFileSync(join(dir, 'child'), 'utf8'));
    await new Promise((r) => setTimeout(r, 100));
    expect(alive(child)).toBe(false);
  });

  it('stops a helper that does not answer by the deadline, with the process it started', async () => {
    const { dir, env } = helpers({ hangs: `sleep 300 & echo $! > "$(dirname "$0")/child"; wait` });
    const started = Date.now();
    const pending = runCredentialHelper('hangs', 'r.example.com', env, { timeoutMs: 500 });
    await expect(pending).rejects.toBeInstanceOf(RegistryAuthError);
    await expect(pending).rejects.toThrow(
      /docker-credential-hangs get did not answer within 500 ms; .*echo r\.example\.com \| docker-credential-hangs get.*timeout \(--timeout\)/,
    );
    expect(Date.now() - started).toBeLessThan(5_000);
    const child = Number(readFileSync(join(dir, 'child'), 'utf8'));
    await new Promise((r) => setTimeout(r, 100));
    expect(alive(child)).toBe(false);
  });

  it('stops at once when the run is cancelled', async () => {
    const { env } = helpers({ hangs: 'sleep 300' });
    const controller = new AbortController();
    const pending = runCredentialHelper('hangs', 'r.example.com', env, { signal: controller.signal });
    setTimeout(() => controller.abort(new Error('cancelled by SIGTERM')), 100);
    await expect(pending).rejects.toThrow('cancelled by SIGTERM');
  });

  it('refuses output beyond 1 MiB without buffering it', async () => {
    const { env } = helpers({ floods: 'head -c 600000000 /dev/zero' });
    const pending = runCredentialHelper('floods', 'r.example.com', env, { timeoutMs: 20_000 });
    await expect(pending).rejects.toBeInstanceOf(RegistryAuthError);
    await expect(pending).rejects.toThrow(/docker-credential-floods get printed more than 1 MiB/);
  });

  it('never quotes the output of a helper that fails: it may hold the secret', async () => {
    const { env } = helpers({
      leaks: `echo '{"Username":"u","Secret":"${SECRET}"}'; echo "${SECRET}" >&2; exit 1`,
    });
    const error = (await runCredentialHelper('leaks', 'r.example.com', env).catch((e: unknown) => e)) as Error;
    expect(error).toBeInstanceOf(RegistryAuthError);
    expect(error.message).toMatch(/docker-credential-leaks get exited with code 1/);
    expect(JSON.stringify({ message: error.message, stack: error.stack, cause: String(error.cause) })).not.toContain(
      SECRET,
    );
  });

  it('still takes "credentials not found" on a non-zero exit as no credentials', async () => {
    const { env } = helpers({ none: 'echo "credentials not found in native keychain"; exit 1' });
    await expect(runCredentialHelper('none', 'r.example.com', env)).resolves.toBeUndefined();
  });
});
