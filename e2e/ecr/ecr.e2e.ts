import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Dockerode from 'dockerode';
import { createPushClient, PushFailedError, type PushEvent, type PushResult } from '@dockpush/core';
import { ECR_E2E_SWITCH, EcrE2eEnvironment, ecrE2eEnabled } from '../support/ecr-environment';
import { describeEachEngine, engineArgs, type E2eEngine } from '../support/engines';
import { createTestImage, removeImage } from '../support/images';
import { listTags, manifestDigest } from '../support/registry-api';

/**
 * AWS ECR, private and public, end to end and without AWS: the real SDK clients talk to the
 * stand-in (STS, ECR, ECR Public), the real dockerd pushes over verified TLS to the registry
 * hosts, which /etc/hosts sends to a registry:2 behind the ECR-like front
 * (e2e/support/ecr-environment.ts). Each push is proven twice: by the registry's HTTP API
 * (tags and manifest digests) and by the stand-in's record of the AWS calls the push made.
 */
const SKIP_REASON =
  `ECR e2e skipped: set ${ECR_E2E_SWITCH}=1 to run it (it edits /etc/hosts and /etc/docker/certs.d and ` +
  'serves TLS on port 443, so it runs only where asked; .ci/run sets it)';

const STS_ACCOUNT = '444455556666';
const GIVEN_ACCOUNT = '111122223333';
const ALIAS = 'dockpush-e2e';
const host = {
  given: `${GIVEN_ACCOUNT}.dkr.ecr.eu-central-1.amazonaws.com`,
  sts: `${STS_ACCOUNT}.dkr.ecr.us-west-2.amazonaws.com`,
  envRegion: `${GIVEN_ACCOUNT}.dkr.ecr.ap-southeast-2.amazonaws.com`,
  public: 'public.ecr.aws',
};

if (!ecrE2eEnabled()) {
  console.warn(`\n${'='.repeat(72)}\n${SKIP_REASON}\n${'='.repeat(72)}\n`);
  describe('AWS ECR end to end', () => {
    it.skip(SKIP_REASON, () => undefined);
  });
} else {
  describe('AWS ECR end to end', () => {
    const docker = new Dockerode();
    const unique = `${process.pid}-${Date.now().toString(36)}`;
    const sourceRef = `dockpush-e2e-ecr-source:${unique}`;
    const savedEnv = { ...process.env };
    const localRefs: string[] = [];
    let ecr: EcrE2eEnvironment;

    /** An env without the developer's Docker credentials (the ECR provider answers first anyway). */
    function dockerEnv(): NodeJS.ProcessEnv {
      const dir = mkdtempSync(join(tmpdir(), 'dockpush-ecr-home-'));
      return { ...process.env, HOME: dir, DOCKER_CONFIG: dir };
    }

    // One client per case, as one process would have: the account it found is not carried over.
    let client = createPushClient();

    async function pushWith(
      engine: E2eEngine,
      args: Record<string, unknown>,
      events: PushEvent[] = [],
    ): Promise<PushResult> {
      const result = (await client.push(
        { source: sourceRef, ...args, ...engineArgs(engine) },
        { docker, env: dockerEnv(), onProgress: (e) => events.push(e) },
      )) as PushResult;
      localRefs.push(...Object.values(result.image.uri));
      return result;
    }

    /** The registry serves every pushed tag with the reported digest, and the engine pushed it to `registryHost`. */
    async function expectInRegistry(result: PushResult, registryHost: string, path: string): Promise<void> {
      expect(result.image.repo).toBe(`${registryHost}/${path}`);
      const tags = await listTags(ecr.registry, path, ecr.registryAuth);
      expect(tags.sort()).toEqual(result.pushed.map((p) => p.tag).sort());
      for (const p of result.pushed) {
        expect(p.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
        expect(await manifestDigest(ecr.registry, path, p.tag, ecr.registryAuth)).toBe(p.digest);
        expect(ecr.front.requests).toContainEqual({
          method: 'PUT',
          host: registryHost,
          path: `/v2/${path}/manifests/${p.tag}`,
          status: 201,
        });
      }
    }

    /** `[service, action, region]` of every AWS call the stand-in received. */
    const awsCalls = () => ecr.standIn.calls.map((c) => [c.service, c.action, c.region]);

    /** Nothing a user sees holds the registry password or the token it is in. */
    function expectNoSecrets(...seen: unknown[]): void {
      const text = JSON.stringify(seen, (_k, v: unknown) => (v instanceof Error ? `${v.message}\n${v.stack}` : v));
      const password = ecr.registryAuth.password;
      expect(text).not.toContain(password);
      expect(text).not.toContain(Buffer.from(`AWS:${password}`).toString('base64'));
    }

    beforeAll(async () => {
      // The SDK gets dummy keys and the stand-in's endpoints, and nothing of the developer's AWS set-up.
      const awsDir = mkdtempSync(join(tmpdir(), 'dockpush-ecr-aws-'));
      writeFileSync(join(awsDir, 'config'), '');
      writeFileSync(join(awsDir, 'credentials'), '');
      for (const key of Object.keys(process.env)) if (key.startsWith('AWS_')) delete process.env[key];
      Object.assign(process.env, {
        AWS_ACCESS_KEY_ID: 'AKIADOCKPUSHE2E',
        AWS_SECRET_ACCESS_KEY: 'dockpush-e2e-not-a-secret',
        AWS_CONFIG_FILE: join(awsDir, 'config'),
        AWS_SHARED_CREDENTIALS_FILE: join(awsDir, 'credentials'),
        AWS_EC2_METADATA_DISABLED: 'true',
      });
      ecr = await EcrE2eEnvironment.start({
        accountId: STS_ACCOUNT,
        hosts: [host.given, host.sts, host.envRegion, host.public],
        docker,
      });
      Object.assign(process.env, ecr.standIn.endpointEnv());
      await createTestImage(docker, sourceRef, { layers: 2, bytesPerLayer: 64 * 1024 });
    });

    afterAll(async () => {
      for (const key of Object.keys(process.env)) if (!(key in savedEnv)) delete process.env[key];
      Object.assign(process.env, savedEnv);
      for (const ref of [...localRefs, sourceRef]) await removeImage(docker, ref).catch(() => undefined);
      await ecr?.stop();
    });

    beforeEach(() => {
      // Every case starts as a fresh process would: a new client (no account or token kept), no region set.
      ecr.standIn.reset();
      client = createPushClient();
      delete process.env.AWS_REGION;
      delete process.env.AWS_DEFAULT_REGION;
    });

    describeEachEngine('pushes', (engine: E2eEngine) => {
      /** A repository name unique to this run and engine, in an ECR-style namespace. */
      const repoName = (n: string) => `ecr-e2e/${n}-${engine}-${unique}`;
      const push = (args: Record<string, unknown>, events?: PushEvent[]) => pushWith(engine, args, events);

      it('pushes to a private repository with account and region given, with one token from ECR in that region', async () => {
        const name = repoName('given');
        ecr.standIn.addRepository(host.given, name);
        const events: PushEvent[] = [];
        const result = await push(
          { ecrRepo: { repoName: name, accountId: GIVEN_ACCOUNT, awsRegion: 'eu-central-1' }, tags: ['1.0.0'] },
          events,
        );
        await expectInRegistry(result, host.given, name);
        expect(awsCalls()).toEqual([['ecr', 'GetAuthorizationToken', 'eu-central-1']]);
        expect(ecr.standIn.calls[0]).toMatchObject({ signingName: 'ecr', accessKeyId: 'AKIADOCKPUSHE2E' });
        expectNoSecrets(result, events);
      });

      it('discovers the account through STS, once for three tags and once for the process', async () => {
        const name = repoName('sts');
        ecr.standIn.addRepository(host.sts, name);
        const plan = await client.plan({ ecrRepo: { repoName: name, awsRegion: 'us-west-2' } });
        expect(plan).toMatchObject({ repo: `${host.sts}/${name}`, registry: host.sts, credentials: 'ecr' });

        const result = await push({
          ecrRepo: { repoName: name, awsRegion: 'us-west-2' },
          tags: ['1.0.0', '1.0', 'latest'],
        });
        await expectInRegistry(result, host.sts, name);
        expect(result.pushed).toHaveLength(3);
        // Another push in the same process, to another repository: the account is not looked up again.
        const other = repoName('sts-other');
        ecr.standIn.addRepository(host.sts, other);
        const second = await push({ ecr_repo: { repo_name: other, aws_region: 'us-west-2' }, tags: ['stable'] });
        await expectInRegistry(second, host.sts, other);

        expect(ecr.standIn.callsOf('GetCallerIdentity')).toHaveLength(1);
        // STS is asked in the repository's region; the token is fetched once and cached.
        expect(awsCalls()).toEqual([
          ['sts', 'GetCallerIdentity', 'us-west-2'],
          ['ecr', 'GetAuthorizationToken', 'us-west-2'],
        ]);
      });

      it('takes the region from AWS_REGION (Runway spelling)', async () => {
        process.env.AWS_REGION = 'ap-southeast-2';
        const name = repoName('env-region');
        ecr.standIn.addRepository(host.envRegion, name);
        const result = await push({ ecr_repo: { repo_name: name, account_id: GIVEN_ACCOUNT }, tags: ['v1'] });
        await expectInRegistry(result, host.envRegion, name);
        expect(awsCalls()).toEqual([['ecr', 'GetAuthorizationToken', 'ap-southeast-2']]);
      });

      it('pushes to ECR Public with a token from us-east-1 while AWS_REGION=eu-west-1', async () => {
        process.env.AWS_REGION = 'eu-west-1';
        const name = `public-${engine}-${unique}`;
        ecr.standIn.addRepository(host.public, `${ALIAS}/${name}`);
        const events: PushEvent[] = [];
        const result = await push(
          { ecrRepo: { repoName: name, registryAlias: ALIAS }, tags: ['1.0.0', 'latest'] },
          events,
        );
        await expectInRegistry(result, host.public, `${ALIAS}/${name}`);
        expect(awsCalls()).toEqual([['ecr-public', 'GetAuthorizationToken', 'us-east-1']]);
        expect(ecr.standIn.calls[0]?.signingName).toBe('ecr-public');
        expectNoSecrets(result, events);
      });

      it('renews a token the registry rejects, once, and pushes', async () => {
        const expired = randomBytes(18).toString('base64url');
        ecr.standIn.queuePasswords(expired);
        const name = repoName('expired');
        ecr.standIn.addRepository(host.given, name);
        const events: PushEvent[] = [];
        const result = await push(
          { ecrRepo: { repoName: name, accountId: GIVEN_ACCOUNT, awsRegion: 'eu-central-1' }, tags: ['1'] },
          events,
        );
        await expectInRegistry(result, host.given, name);
        expect(awsCalls()).toEqual([
          ['ecr', 'GetAuthorizationToken', 'eu-central-1'],
          ['ecr', 'GetAuthorizationToken', 'eu-central-1'],
        ]);
        // The registry did turn the first token away.
        expect(ecr.front.requests.some((r) => r.host === host.given && r.status === 401)).toBe(true);
        if (engine === 'docker') {
          // The engine's push of the tag fails as a whole: dockpush renews the token and pushes the tag again.
          expect(events.filter((e) => e.type === 'tag-started').map((e) => e.attempt)).toEqual([1, 2]);
          expect(events).toContainEqual(
            expect.objectContaining({
              type: 'tag-retrying',
              reason: 'the registry rejected the ECR token; renewing it',
            }),
          );
        } else {
          // The registry engine renews the token on the refused request and goes on: one attempt of the tag.
          expect(events.filter((e) => e.type === 'tag-started').map((e) => e.attempt)).toEqual([1]);
          expect(events.filter((e) => e.type === 'tag-retrying' || e.type === 'tag-failed')).toEqual([]);
        }
        expect(JSON.stringify(events)).not.toContain(expired);
        expectNoSecrets(result, events);
      });

      it('creates a missing private repository with createRepository, then pushes', async () => {
        const name = repoName('create');
        const events: PushEvent[] = [];
        const result = await push(
          {
            ecrRepo: { repoName: name, accountId: GIVEN_ACCOUNT, awsRegion: 'eu-central-1' },
            tags: ['1', '2'],
            createRepository: true,
          },
          events,
        );
        await expectInRegistry(result, host.given, name);
        expect(ecr.standIn.callsOf('CreateRepository')).toEqual([
          expect.objectContaining({
            service: 'ecr',
            region: 'eu-central-1',
            input: { repositoryName: name, registryId: GIVEN_ACCOUNT },
          }),
        ]);
        expect(ecr.standIn.hasRepository(host.given, name)).toBe(true);
        expect(events).toContainEqual({ type: 'repository-created', repository: `${host.given}/${name}` });
        // The first attempt met ECR's NAME_UNKNOWN.
        expect(ecr.front.requests.some((r) => r.status === 404 && r.path.startsWith(`/v2/${name}/`))).toBe(true);
      });

      it('fails on a missing private repository without createRepository, naming the repository and the option', async () => {
        const name = repoName('missing');
        localRefs.push(`${host.given}/${name}:1`);
        const error = await push({
          ecrRepo: { repoName: name, accountId: GIVEN_ACCOUNT, awsRegion: 'eu-central-1' },
          tags: ['1'],
        }).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(PushFailedError);
        const message = (error as Error).message;
        expect(message).toContain(
          `The repository with name '${name}' does not exist in the registry with id '${GIVEN_ACCOUNT}'`,
        );
        expect(message).toContain(
          `The ECR repository "${name}" does not exist: create it, or set createRepository: true.`,
        );
        expect((error as PushFailedError).outcomes).toEqual([
          expect.objectContaining({ status: 'failed', attempts: 1 }),
        ]);
        expect(ecr.standIn.callsOf('CreateRepository')).toEqual([]);
        expect(await listTags(ecr.registry, name, ecr.registryAuth)).toEqual([]);
      });
    });
  });
}
