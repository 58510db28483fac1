import type { ExplicitAuth } from '../args/push-args';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ArgumentsError, RegistryAuthError } from '../errors';
import { redact } from '../redact';
import { defaultAuthProviders, resolveCredentials } from './credential-chain';
import { runCredentialHelper } from './credential-helper';

const b64 = (s: string) => Buffer.from(s).toString('base64');

/** A folder with a Docker config and fake `docker-credential-*` helpers, and an env pointing at it. */
function fixture(config: object | string | undefined, extraEnv: Record<string, string> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'dockpush-auth-'));
  if (config !== undefined) {
    writeFileSync(join(dir, 'config.json'), typeof config === 'string' ? config : JSON.stringify(config));
  }
  const helper = (name: string, script: string) => {
    const path = join(dir, `docker-credential-${name}`);
    writeFileSync(path, `#!/bin/sh\n${script}\n`);
    chmodSync(path, 0o755);
  };
  // A helper that answers for one host and logs what it was asked.
  helper(
    'fake',
    `read host; echo "$host" >> "${dir}/asked"; if [ "$host" = "helped.example.com" ]; then echo '{"ServerURL":"helped.example.com","Username":"helper-user","Secret":"helper-secret-1"}'; else echo "credentials not found in native keychain"; exit 1; fi`,
  );
  helper('token', `read host; echo '{"ServerURL":"x","Username":"<token>","Secret":"identity-token-from-helper"}'`);
  helper('broken', `echo "keychain locked" >&2; exit 3`);
  helper('notjson', `echo hello`);
  const env = { HOME: dir, DOCKER_CONFIG: dir, PATH: `${dir}:${process.env.PATH ?? ''}`, ...extraEnv };
  return { dir, env };
}

async function resolveWith(
  host: string,
  config: object | string | undefined,
  extraEnv: Record<string, string> = {},
  auth?: ExplicitAuth,
) {
  const { env } = fixture(config, extraEnv);
  return resolveCredentials(host, defaultAuthProviders({ env, ...(auth ? { auth } : {}) }));
}

describe('credential discovery (architecture.md § Credentials)', () => {
  it.each([
    ['no config at all', 'localhost:5000', undefined, { source: 'anonymous', authconfig: {} }],
    ['an empty config', 'localhost:5000', {}, { source: 'anonymous', authconfig: {} }],
    [
      'auths with base64 auth',
      'localhost:5000',
      { auths: { 'localhost:5000': { auth: b64('alice:s3cret-pw') } } },
      {
        source: 'docker-config',
        authconfig: { username: 'alice', password: 's3cret-pw', serveraddress: 'localhost:5000' },
      },
    ],
    [
      'auths keyed by URL',
      'registry.example.com',
      { auths: { 'https://registry.example.com/v1/': { username: 'bob', password: 'pw-bob-1' } } },
      {
        source: 'docker-config',
        authconfig: { username: 'bob', password: 'pw-bob-1', serveraddress: 'registry.example.com' },
      },
    ],
    [
      'an identity token in auths',
      'registry.example.com',
      { auths: { 'registry.example.com': { auth: b64('<token>:'), identitytoken: 'idtok-123' } } },
      { source: 'docker-config', authconfig: { identitytoken: 'idtok-123', serveraddress: 'registry.example.com' } },
    ],
    [
      "Docker Hub's key",
      'docker.io',
      { auths: { 'https://index.docker.io/v1/': { auth: b64('hub:hub-pass') } } },
      { source: 'docker-config', authconfig: { username: 'hub', password: 'hub-pass', serveraddress: 'docker.io' } },
    ],
    [
      'credHelpers before auths',
      'helped.example.com',
      {
        credHelpers: { 'helped.example.com': 'fake' },
        auths: { 'helped.example.com': { auth: b64('x:y-from-auths') } },
      },
      {
        source: 'credential-helper',
        authconfig: { username: 'helper-user', password: 'helper-secret-1', serveraddress: 'helped.example.com' },
      },
    ],
    [
      'credsStore, then auths when the store has nothing',
      'other.example.com',
      { credsStore: 'fake', auths: { 'other.example.com': { auth: b64('o:o-pass') } } },
      {
        source: 'docker-config',
        authconfig: { username: 'o', password: 'o-pass', serveraddress: 'other.example.com' },
      },
    ],
    [
      'a helper answering with an identity token',
      'x.example.com',
      { credHelpers: { 'x.example.com': 'token' } },
      {
        source: 'credential-helper',
        authconfig: { identitytoken: 'identity-token-from-helper', serveraddress: 'x.example.com' },
      },
    ],
    [
      'auths for another host only',
      'localhost:5000',
      { auths: { 'localhost:6000': { auth: b64('a:b-pass') } } },
      { source: 'anonymous', authconfig: {} },
    ],
  ])('%s', async (_name, host, config, expected) => {
    expect(await resolveWith(host, config)).toEqual(expected);
  });

  it('DOCKER_AUTH_CONFIG comes before the config file', async () => {
    const inline = JSON.stringify({ auths: { 'localhost:5000': { auth: b64('inline:inline-pass') } } });
    expect(
      await resolveWith(
        'localhost:5000',
        { auths: { 'localhost:5000': { auth: b64('file:file-pass') } } },
        { DOCKER_AUTH_CONFIG: inline },
      ),
    ).toEqual({
      source: 'docker-auth-config',
      authconfig: { username: 'inline', password: 'inline-pass', serveraddress: 'localhost:5000' },
    });
  });

  it('explicit auth beats everything', async () => {
    expect(
      await resolveWith(
        'localhost:5000',
        { auths: { 'localhost:5000': { auth: b64('file:file-pass') } } },
        {},
        { username: 'me', password: 'explicit-pw' },
      ),
    ).toEqual({
      source: 'explicit',
      authconfig: { username: 'me', password: 'explicit-pw', serveraddress: 'localhost:5000' },
    });
  });

  it('registers every secret it finds for redaction', async () => {
    await resolveWith('localhost:5000', { auths: { 'localhost:5000': { auth: b64('carol:carol-very-secret') } } });
    expect(redact('pw=carol-very-secret b64=' + b64('carol:carol-very-secret'))).toBe('pw=*** b64=***');
  });

  it.each([
    [
      'a helper that is not installed',
      { credHelpers: { 'localhost:5000': 'nosuchhelper' } },
      /docker-credential-nosuchhelper is not on PATH\. Install it, or remove it/,
    ],
    [
      'a helper that fails',
      { credHelpers: { 'localhost:5000': 'broken' } },
      /docker-credential-broken get exited with code 3 \(its output is not shown.*\(echo localhost:5000 \| docker-credential-broken get\)/,
    ],
    ['a helper that prints garbage', { credsStore: 'notjson' }, /printed something that is not JSON/],
  ])('%s is a RegistryAuthError that says what to do', async (_name, config, message) => {
    const pending = resolveWith('localhost:5000', config);
    await expect(pending).rejects.toBeInstanceOf(RegistryAuthError);
    await expect(pending).rejects.toThrow(message);
  });

  it('a malformed Docker config names the file and the fix', async () => {
    const pending = resolveWith('localhost:5000', '{"auths": ');
    await expect(pending).rejects.toBeInstanceOf(ArgumentsError);
    await expect(pending).rejects.toThrow(/The Docker config .*config\.json is not valid JSON .*fix or remove it/);
  });

  it.each([
    ['the Docker config', (text: string) => resolveWith('localhost:5000', text), /The Docker config .*config\.json/],
    [
      'DOCKER_AUTH_CONFIG',
      (text: string) => resolveWith('localhost:5000', undefined, { DOCKER_AUTH_CONFIG: text }),
      /^DOCKER_AUTH_CONFIG/,
    ],
  ])('a syntax error in %s is located, never quoted (it holds credentials)', async (_, resolve, origin) => {
    const text = '{\n  "auths": {"localhost:5000": {"username": "u", "password":Sup3rS3cre}}}';
    const error = (await resolve(text).catch((e: unknown) => e)) as Error;
    expect(error).toBeInstanceOf(ArgumentsError);
    expect(error.message).toMatch(origin);
    expect(error.message).toMatch(
      /is not valid JSON \(expected a value .* at line 2, column 60\); (fix or remove it|fix it, or unset)/,
    );
    expect(JSON.stringify(error, Object.getOwnPropertyNames(error))).not.toMatch(/Sup3r|S3cre/);
    expect(String((error.cause as Error | undefined)?.message)).not.toMatch(/Sup3r|S3cre/);
  });

  it.each([
    [
      'the Docker config',
      {},
      /^the Docker config \(config\.json\): the "auth" of localhost:5000 is not the base64 of user:password; log in again \(docker login localhost:5000\)/,
    ],
    [
      'DOCKER_AUTH_CONFIG',
      { DOCKER_AUTH_CONFIG: JSON.stringify({ auths: { 'localhost:5000': { auth: b64('0nly-a-passw0rd') } } }) },
      /^DOCKER_AUTH_CONFIG: the "auth" of localhost:5000 is not the base64 of user:password/,
    ],
  ])(
    'an auth in %s that is not base64 of user:password fails, never quoting it (docker refuses it too)',
    async (_, extraEnv, message) => {
      const config = { auths: { 'localhost:5000': { auth: b64('0nly-a-passw0rd') } } };
      const error = (await resolveWith('localhost:5000', config, extraEnv).catch((e: unknown) => e)) as Error;
      expect(error).toBeInstanceOf(ArgumentsError);
      expect(error.message).toMatch(message);
      expect(error.message).not.toMatch(/0nly-a-passw0rd|MG5seS1h/);
    },
  );

  it('reads a Docker config that starts with a byte-order mark', async () => {
    const auth = Buffer.from('bom-user:bom-password').toString('base64');
    const creds = await resolveWith('localhost:5000', `\uFEFF{"auths": {"localhost:5000": {"auth": "${auth}"}}}`);
    expect(creds.authconfig).toMatchObject({ username: 'bom-user', password: 'bom-password' });
  });

  it('runs the helper with the host on stdin', async () => {
    const { dir, env } = fixture(undefined);
    expect(await runCredentialHelper('fake', 'helped.example.com', env)).toEqual({
      username: 'helper-user',
      secret: 'helper-secret-1',
    });
    expect(await runCredentialHelper('fake', 'elsewhere', env)).toBeUndefined();
    expect(readFileSync(join(dir, 'asked'), 'utf8')).toBe('helped.example.com\nelsewhere\n');
  });
});
