import { Readable } from 'node:stream';
import type Dockerode from 'dockerode';
import { CredentialSession } from '../auth/credential-session';
import type { AuthProvider, CredentialSource } from '../auth/registry-auth';
import type { EcrRepositoryCreator } from '../ecr/aws-clients';
import { parseEcrRegistry } from '../ecr/ecr-registry';
import { RegistryAuthError } from '../errors';
import type { PushEvent } from '../events';
import type { EngineMessage } from './push-stream';
import { DockerEngine } from './docker-engine';
import { TagPusher, type TagPusherOptions } from './tag-pusher';
import { RepositoryReference } from '../args/repository-reference';

function reference(repository: string): RepositoryReference {
  const parsed = RepositoryReference.parse(repository);
  if (!parsed) throw new Error(`not a repository: ${repository}`);
  return parsed;
}

const DIGEST = 'sha256:' + 'c'.repeat(64);
const ok: EngineMessage[] = [{ status: 'Pushed', id: 'l1' }, { aux: { Tag: 't', Digest: DIGEST, Size: 42 } }];
const fail = (message: string): EngineMessage[] => [
  { status: 'Preparing', id: 'l1' },
  { errorDetail: { message }, error: message },
];

/** A fake engine answering each push with the next scripted stream (HTTP 200 + messages) or HTTP error. */
function fakeDocker(script: Array<EngineMessage[] | Error>) {
  const calls: Array<{ name: string; tag: string; authconfig: unknown }> = [];
  const docker = {
    getImage: (name: string) => ({
      push: async (opts: { tag: string; authconfig: unknown }) => {
        calls.push({ name, tag: opts.tag, authconfig: opts.authconfig });
        const next = script.shift() ?? ok;
        if (next instanceof Error) throw next;
        return Readable.from(next.map((m) => JSON.stringify(m) + '\n'));
      },
    }),
  } as unknown as Dockerode;
  return { docker, calls };
}

function authProviders(passwords: string[]): AuthProvider & { invalidated: number } {
  let n = 0;
  return {
    invalidated: 0,
    async resolve(host) {
      return {
        source: 'ecr',
        authconfig: {
          username: 'AWS',
          password: passwords[Math.min(n++, passwords.length - 1)] ?? '',
          serveraddress: host,
        },
      };
    },
    invalidate() {
      this.invalidated++;
    },
  };
}

function pusher(
  docker: Dockerode,
  { env, ...overrides }: Partial<TagPusherOptions> & { env?: NodeJS.ProcessEnv } = {},
) {
  const events: PushEvent[] = [];
  const sleeps: number[] = [];
  const p = new TagPusher({
    engine: new DockerEngine({ docker, ...(env ? { env } : {}) }),
    repository: reference('localhost:5000/app'),
    ecr: undefined,
    createRepository: false,
    retries: 3,
    credentials: new CredentialSession([]),
    emit: (e) => events.push(e),
    signal: undefined,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    ...overrides,
  });
  return { p, events, sleeps };
}

describe('TagPusher', () => {
  it('always passes the tag and sends {} as auth when anonymous', async () => {
    const { docker, calls } = fakeDocker([ok]);
    const { p } = pusher(docker);
    expect(await p.push('1.0')).toEqual({
      tag: '1.0',
      uri: 'localhost:5000/app:1.0',
      status: 'pushed',
      digest: DIGEST,
      size: 42,
      attempts: 1,
    });
    expect(calls).toEqual([{ name: 'localhost:5000/app', tag: '1.0', authconfig: {} }]);
  });

  it.each([
    ['connection refused', 'dial tcp 127.0.0.1:5000: connect: connection refused'],
    ['a 503', 'received unexpected HTTP status: 503 Service Unavailable'],
    ['blob upload unknown', 'blob upload unknown'],
  ])('retries %s with backoff, then succeeds', async (_what, message) => {
    const { docker, calls } = fakeDocker([fail(message), fail(message), ok]);
    const { p, events, sleeps } = pusher(docker);
    expect(await p.push('1')).toMatchObject({ status: 'pushed', attempts: 3 });
    expect(calls).toHaveLength(3);
    expect(sleeps).toHaveLength(2);
    expect(sleeps[1]).toBeGreaterThanOrEqual(500);
    expect(events.filter((e) => e.type === 'tag-retrying')).toHaveLength(2);
  });

  it('retries an HTTP-level engine error (5xx before the stream)', async () => {
    const error = Object.assign(new Error('(HTTP code 500) server error - Get "http://x/v2/": EOF'), {
      statusCode: 500,
    });
    const { docker } = fakeDocker([error, ok]);
    const { p } = pusher(docker);
    expect(await p.push('1')).toMatchObject({ status: 'pushed', attempts: 2 });
  });

  it('gives up after the configured retries with every attempt counted', async () => {
    const down = fail('connect: connection refused');
    const { docker, calls } = fakeDocker([down, down, down]);
    const { p } = pusher(docker, { retries: 2 });
    const outcome = await p.push('1');
    expect(outcome).toMatchObject({ status: 'failed', attempts: 3 });
    expect(outcome.status === 'failed' && outcome.error).toMatch(
      /connection refused\. The registry localhost:5000 kept failing after 2 retries.* dockpush made 3 attempts; the engine also retries each layer upload within an attempt\./,
    );
    expect(calls).toHaveLength(3);
  });

  it('fails an attempt whose stream goes silent, as transient, naming the registry and the deadline', async () => {
    let destroyed = 0;
    const silent = () => {
      // The engine said one thing, then nothing more (a registry hanging on the manifest).
      const stream = new Readable({ read() {} });
      stream.push(JSON.stringify({ status: 'Pushed', id: 'l1' }) + '\n');
      stream.on('close', () => destroyed++);
      return stream;
    };
    const docker = { getImage: () => ({ push: async () => silent() }) } as unknown as Dockerode;
    const { p, events } = pusher(docker, { retries: 1, timeoutMs: 150 });
    const started = Date.now();
    const outcome = await p.push('1');
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(outcome).toMatchObject({ status: 'failed', attempts: 2 });
    expect(outcome.status === 'failed' && outcome.error).toMatch(
      /^no progress for 150 ms pushing to localhost:5000 \(the registry, or the engine, stopped answering\)\. The registry localhost:5000 kept failing after 1 retry/,
    );
    expect(events.filter((e) => e.type === 'tag-retrying')).toHaveLength(1);
    expect(destroyed).toBe(2);
  });

  it('fails an attempt when the engine does not answer the push request by the deadline', async () => {
    const docker = {
      getImage: () => ({ push: () => new Promise(() => undefined) }),
    } as unknown as Dockerode;
    const { p } = pusher(docker, { retries: 0, timeoutMs: 100, env: { DOCKER_HOST: 'tcp://admin:s3cret@h:2376' } });
    const outcome = await p.push('1');
    expect(outcome.status === 'failed' && outcome.error).toMatch(
      /Cannot reach the Docker engine at tcp:\/\/admin:\*\*\*@h:2376 \(no answer to the push of localhost:5000\/app:1 within 100 ms/,
    );
  });

  it.each([
    ['denied: requested access to the resource is denied'],
    ['manifest invalid: manifest invalid'],
    [
      "tag invalid: The image tag '1' already exists in the 'app' repository and cannot be overwritten because the repository is immutable.",
    ],
    ['An image does not exist locally with the tag: localhost:5000/app'],
  ])('does not retry %j', async (message) => {
    const { docker, calls } = fakeDocker([fail(message), ok]);
    const { p } = pusher(docker);
    expect(await p.push('1')).toMatchObject({ status: 'failed', attempts: 1 });
    expect(calls).toHaveLength(1);
  });

  it('throws RegistryAuthError on an auth rejection without retrying (non-ECR)', async () => {
    const { docker, calls } = fakeDocker([fail('unauthorized: authentication required'), ok]);
    const { p } = pusher(docker);
    await expect(p.push('1')).rejects.toBeInstanceOf(RegistryAuthError);
    expect(calls).toHaveLength(1);
  });

  it.each([
    [
      'explicit' as const,
      /refused the credentials given in auth \(--username\/--password-stdin\): check the username and password/,
    ],
    ['docker-config' as const, /Give credentials with auth, or run "docker login localhost:5000"/],
    [
      'docker-auth-config' as const,
      /refused the credentials in DOCKER_AUTH_CONFIG: fix them, or unset DOCKER_AUTH_CONFIG to use the Docker config/,
    ],
    ['anonymous' as const, /Give credentials with auth, or run "docker login localhost:5000"/],
  ])(
    'advises on a refusal according to where the credentials came from (%s)',
    async (credentialSource: CredentialSource, advice) => {
      const { docker } = fakeDocker([fail('unauthorized: authentication required')]);
      const from: AuthProvider = {
        resolve: async (host) =>
          credentialSource === 'anonymous'
            ? undefined
            : { source: credentialSource, authconfig: { username: 'u', password: 'p4ssw0rd', serveraddress: host } },
      };
      const { p } = pusher(docker, { credentials: new CredentialSession([from]) });
      await expect(p.push('1')).rejects.toThrow(advice);
    },
  );

  it('renews a rejected ECR token once and retries', async () => {
    const host = '123456789012.dkr.ecr.us-east-1.amazonaws.com';
    const auth = authProviders(['expired-token', 'fresh-token']);
    const { docker, calls } = fakeDocker([fail('unauthorized: authentication required'), ok]);
    const { p } = pusher(docker, {
      repository: reference(`${host}/app`),
      ecr: parseEcrRegistry(host),
      credentials: new CredentialSession([auth]),
    });
    expect(await p.push('1')).toMatchObject({ status: 'pushed', attempts: 2 });
    expect(auth.invalidated).toBe(1);
    expect(calls.map((c) => (c.authconfig as { password: string }).password)).toEqual(['expired-token', 'fresh-token']);
  });

  it('fails after the renewed ECR token is rejected too', async () => {
    const host = '123456789012.dkr.ecr.us-east-1.amazonaws.com';
    const denied = fail('unauthorized: authentication required');
    const { docker, calls } = fakeDocker([denied, denied, denied]);
    const { p } = pusher(docker, {
      repository: reference(`${host}/app`),
      ecr: parseEcrRegistry(host),
      credentials: new CredentialSession([authProviders(['a-token', 'b-token'])]),
    });
    await expect(p.push('1')).rejects.toThrow(
      /Cannot authenticate to 123456789012\.dkr\.ecr\.us-east-1\.amazonaws\.com: unauthorized.*AWS credentials may push/,
    );
    expect(calls).toHaveLength(2);
  });

  it('creates a missing ECR repository once when asked, then pushes', async () => {
    const host = '123456789012.dkr.ecr.us-east-1.amazonaws.com';
    const created: string[] = [];
    const creator: EcrRepositoryCreator = { createRepository: async (_r, name) => void created.push(name) };
    const missing = fail(
      "name unknown: The repository with name 'app' does not exist in the registry with id '123456789012'",
    );
    const { docker } = fakeDocker([missing, ok]);
    const { p, events } = pusher(docker, {
      repository: reference(`${host}/app`),
      ecr: parseEcrRegistry(host),
      createRepository: true,
      ecrRepositories: creator,
      credentials: new CredentialSession([authProviders(['t-token'])]),
    });
    expect(await p.push('1')).toMatchObject({ status: 'pushed' });
    expect(created).toEqual(['app']);
    expect(events).toContainEqual({ type: 'repository-created', repository: `${host}/app` });
  });

  it('names the repository and the option when an ECR repository is missing', async () => {
    const host = '123456789012.dkr.ecr.us-east-1.amazonaws.com';
    const { docker } = fakeDocker([
      fail("name unknown: The repository with name 'app' does not exist in the registry with id '123456789012'"),
    ]);
    const { p } = pusher(docker, {
      repository: reference(`${host}/app`),
      ecr: parseEcrRegistry(host),
      credentials: new CredentialSession([authProviders(['t-token'])]),
    });
    const outcome = await p.push('1');
    expect(outcome.status === 'failed' && outcome.error).toMatch(
      /The ECR repository "app" does not exist: create it, or set createRepository: true/,
    );
  });

  it('creates an ECR repository with a nested path under its whole name', async () => {
    const host = '123456789012.dkr.ecr.us-east-1.amazonaws.com';
    const created: string[] = [];
    const creator: EcrRepositoryCreator = { createRepository: async (_r, name) => void created.push(name) };
    const missing = fail("name unknown: The repository with name 'team/service/api' does not exist");
    const { docker, calls } = fakeDocker([missing, ok]);
    const { p, events } = pusher(docker, {
      repository: reference(`${host}/team/service/api`),
      ecr: parseEcrRegistry(host),
      createRepository: true,
      ecrRepositories: creator,
      credentials: new CredentialSession([authProviders(['t-token'])]),
    });
    expect(await p.push('1')).toMatchObject({ status: 'pushed', uri: `${host}/team/service/api:1` });
    expect(created).toEqual(['team/service/api']);
    expect(calls[0]?.name).toBe(`${host}/team/service/api`);
    expect(events).toContainEqual({ type: 'repository-created', repository: `${host}/team/service/api` });
  });

  it.each([
    ['myorg/my-service', /The repository "myorg\/my-service" does not exist in docker\.io; create it first/],
    ['localhost:5000/team/app', /The repository "team\/app" does not exist in localhost:5000; create it first/],
  ])('names the repository %s by its whole name inside its registry when it is missing', async (repo, advice) => {
    const { docker } = fakeDocker([fail('name unknown: repository name not known to registry')]);
    const { p } = pusher(docker, { repository: reference(repo) });
    const outcome = await p.push('1');
    expect(outcome.status === 'failed' && outcome.error).toMatch(advice);
  });

  it('stops retrying at once when the signal aborts during a backoff', async () => {
    const controller = new AbortController();
    const { docker, calls } = fakeDocker([fail('connection refused'), ok]);
    const { p } = pusher(docker, {
      signal: controller.signal,
      sleep: async () => {
        controller.abort(new Error('cancelled by test'));
        throw controller.signal.reason;
      },
    });
    expect(await p.push('1')).toMatchObject({
      status: 'skipped',
      reason: expect.stringMatching(/^cancelled while waiting to retry after: connection refused/),
    });
    expect(calls).toHaveLength(1);
  });

  it('lets a push in flight finish when cancelled, and reports what really happened', async () => {
    const controller = new AbortController();
    const { docker } = fakeDocker([ok]);
    const { p } = pusher(docker, { signal: controller.signal });
    const pending = p.push('1');
    controller.abort(new Error('cancelled by test'));
    expect(await pending).toMatchObject({ status: 'pushed', digest: DIGEST });
  });

  it('does not retry a failure that comes after a cancellation', async () => {
    const controller = new AbortController();
    controller.abort(new Error('cancelled'));
    const { docker, calls } = fakeDocker([fail('connection refused'), ok]);
    const { p } = pusher(docker, { signal: controller.signal });
    expect(await p.push('1')).toMatchObject({
      status: 'failed',
      error: expect.stringMatching(/not retried: the push was cancelled/),
    });
    expect(calls).toHaveLength(1);
  });
});
