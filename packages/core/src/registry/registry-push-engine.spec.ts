import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parsePushArgs } from '../args/push-args';
import { CredentialSession } from '../auth/credential-session';
import type { EcrRepositoryCreator } from '../ecr/aws-clients';
import type { EngineAuthConfig } from '../auth/registry-auth';
import type { EcrRegistry } from '../ecr/ecr-registry';
import type { PushJob } from '../engine/push-engine';
import { ImageNotFoundError, PushCancelledError, PushFailedError, RegistryAuthError } from '../errors';
import type { PushEvent } from '../events';
import { sha256Digest } from '../image-source/layer-digest';
import type { PushPlan } from '../plan/resolve-push-plan';
import { pushImage } from '../push-client';
import { RepositoryReference } from '../args/repository-reference';
import { RegistryPushEngine } from './registry-push-engine';
import { emptyOciImage } from '@dockpush/core/testing';

const { config, manifest } = emptyOciImage;

/** An OCI layout holding one image with no layers. */
function ociLayout(dir: string): string {
  const layout = join(dir, 'layout');
  mkdirSync(join(layout, 'blobs', 'sha256'), { recursive: true });
  for (const blob of [config, manifest]) {
    writeFileSync(join(layout, 'blobs', 'sha256', sha256Digest(blob).slice('sha256:'.length)), blob);
  }
  writeFileSync(join(layout, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  const entry = {
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    digest: sha256Digest(manifest),
    size: manifest.length,
  };
  writeFileSync(join(layout, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [entry] }));
  return layout;
}

interface FakeRegistryOptions {
  /** Every repository request answers 404 NAME_UNKNOWN (or ECR's message) until `created` is set. */
  missing?: 'NAME_UNKNOWN' | 'RepositoryNotFoundException';
  /** Basic credentials the registry demands, as `user:password`. */
  basic?: string;
  /** A tag whose manifest the registry refuses with a 500. */
  failTag?: string;
  /** A tag whose manifest the registry stores and answers only after `ms`. */
  slowTag?: { tag: string; ms: number };
}

/** A registry over HTTP on loopback: blobs are missing, uploads and manifests accepted. */
class FakeRegistry {
  created = false;
  readonly manifestTags: string[] = [];
  readonly authorizations = new Set<string>();
  private server!: Server;

  constructor(private readonly options: FakeRegistryOptions = {}) {}

  async start(): Promise<string> {
    this.server = createServer((req, res) => void this.answer(req, res));
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async answer(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const url = new URL(req.url ?? '/', 'http://registry');
    if (req.headers.authorization) this.authorizations.add(req.headers.authorization);
    if (this.options.basic) {
      const expected = `Basic ${Buffer.from(this.options.basic).toString('base64')}`;
      if (req.headers.authorization !== expected) {
        res.writeHead(401, { 'www-authenticate': 'Basic realm="fake"', 'content-type': 'application/json' });
        res.end(JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }] }));
        return;
      }
    }
    if (url.pathname === '/v2/' || url.pathname === '/v2') {
      res.writeHead(200).end('{}');
      return;
    }
    if (this.options.missing && !this.created) {
      const message =
        this.options.missing === 'NAME_UNKNOWN'
          ? { code: 'NAME_UNKNOWN', message: 'repository name not known to registry' }
          : {
              code: 'NAME_UNKNOWN',
              message: "The repository with name 'app' does not exist in the registry (RepositoryNotFoundException)",
            };
      res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ errors: [message] }));
      return;
    }
    if (req.method === 'HEAD' && url.pathname.includes('/blobs/')) {
      res.writeHead(404).end();
    } else if (req.method === 'POST' && url.pathname.endsWith('/blobs/uploads/')) {
      res.writeHead(202, { location: `${url.pathname}u1`, 'content-length': '0' }).end();
    } else if (req.method === 'PATCH') {
      res.writeHead(202, { location: url.pathname, range: `0-${Math.max(0, body.length - 1)}` }).end();
    } else if (req.method === 'PUT' && url.pathname.includes('/blobs/')) {
      res.writeHead(201, { 'docker-content-digest': url.searchParams.get('digest') ?? '' }).end();
    } else if (req.method === 'PUT' && url.pathname.endsWith(`/manifests/${this.options.failTag}`)) {
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ errors: [{ code: 'UNKNOWN', message: 'disk full' }] }));
    } else if (req.method === 'PUT' && url.pathname.includes('/manifests/')) {
      const tag = url.pathname.split('/').pop() ?? '';
      if (tag === this.options.slowTag?.tag)
        await new Promise((resolve) => setTimeout(resolve, this.options.slowTag?.ms));
      this.manifestTags.push(tag);
      res.writeHead(201, { 'docker-content-digest': sha256Digest(body) }).end();
    } else {
      res.writeHead(404).end();
    }
  }
}

let dir: string;
const env = {
  HOME: '/nonexistent',
  DOCKER_CONFIG: '/nonexistent',
  XDG_CACHE_HOME: '/nonexistent',
  PATH: process.env.PATH ?? '',
};
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'dockpush-registry-engine-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const ECR: Extract<EcrRegistry, { kind: 'private' }> = {
  kind: 'private',
  host: '123456789012.dkr.ecr.eu-west-1.amazonaws.com',
  accountId: '123456789012',
  region: 'eu-west-1',
};

/** A job as push-image builds it, for a private ECR repository served by the fake registry. */
function ecrJob(registry: string, createRepository: boolean, creator: EcrRepositoryCreator, events: PushEvent[]) {
  const repo = `${registry}/app`;
  const args = parsePushArgs({
    repo,
    source: `oci:${ociLayout(dir)}`,
    tags: ['1.0'],
    engine: 'registry',
    createRepository,
    retries: 0,
    timeout: 10,
  });
  const authconfig: EngineAuthConfig = { username: 'AWS', password: 'ecr-token', serveraddress: registry };
  const credentials = new CredentialSession([{ resolve: async () => ({ source: 'ecr', authconfig }) }]);
  const controller = new AbortController();
  const job: PushJob = {
    args,
    resolved: {
      plan: { repo, tags: ['1.0'], uri: { '1.0': `${repo}:1.0` } } as unknown as PushPlan,
      ecr: ECR,
      repository: RepositoryReference.parse(repo) as RepositoryReference,
      credentials,
    },
    options: { env, ecrRepositories: creator },
    limits: { timeoutMs: 10_000 },
    signal: controller.signal,
    emit: (event) => events.push(event),
    dockerEngine: async () => {
      throw new Error('the Docker engine must not be needed');
    },
  };
  return job;
}

describe('RegistryPushEngine: a missing private ECR repository', () => {
  it.each(['NAME_UNKNOWN', 'RepositoryNotFoundException'] as const)(
    'on %s with createRepository, creates it, says so and pushes again, with the token as user AWS',
    async (missing) => {
      const registry = new FakeRegistry({ missing, basic: 'AWS:ecr-token' });
      const host = await registry.start();
      try {
        const created: string[] = [];
        const creator: EcrRepositoryCreator = {
          createRepository: async (ecr, name) => {
            created.push(`${ecr.accountId}/${ecr.region}/${name}`);
            registry.created = true;
          },
        };
        const events: PushEvent[] = [];
        const result = await new RegistryPushEngine().push(ecrJob(host, true, creator, events));
        expect(created).toEqual(['123456789012/eu-west-1/app']);
        expect(events).toContainEqual({ type: 'repository-created', repository: `${host}/app` });
        expect(result.outcomes).toEqual([
          expect.objectContaining({ tag: '1.0', status: 'pushed', digest: sha256Digest(manifest) }),
        ]);
        expect(registry.manifestTags).toEqual(['1.0']);
        expect([...registry.authorizations]).toEqual([`Basic ${Buffer.from('AWS:ecr-token').toString('base64')}`]);
      } finally {
        await registry.stop();
      }
    },
  );

  it('without createRepository, fails every tag advising to create it or set createRepository, creating nothing', async () => {
    const registry = new FakeRegistry({ missing: 'NAME_UNKNOWN' });
    const host = await registry.start();
    try {
      const created: string[] = [];
      const creator: EcrRepositoryCreator = { createRepository: async (_ecr, name) => void created.push(name) };
      const events: PushEvent[] = [];
      const result = await new RegistryPushEngine().push(ecrJob(host, false, creator, events));
      expect(created).toEqual([]);
      expect(events.map((e) => e.type)).not.toContain('repository-created');
      expect(result.outcomes).toEqual([
        expect.objectContaining({
          tag: '1.0',
          status: 'failed',
          error: expect.stringContaining(
            'The ECR repository "app" does not exist: create it, or set createRepository: true.',
          ),
        }),
      ]);
    } finally {
      await registry.stop();
    }
  });

  it('creates it once: a repository still missing after creation fails instead of looping', async () => {
    const registry = new FakeRegistry({ missing: 'NAME_UNKNOWN' });
    const host = await registry.start();
    try {
      let calls = 0;
      const creator: EcrRepositoryCreator = { createRepository: async () => void calls++ };
      const result = await new RegistryPushEngine().push(ecrJob(host, true, creator, []));
      expect(calls).toBe(1);
      expect(result.outcomes).toEqual([expect.objectContaining({ tag: '1.0', status: 'failed' })]);
    } finally {
      await registry.stop();
    }
  });
});

describe('RegistryPushEngine: a tag the registry refuses', () => {
  it("reports that tag as failed with the registry's error, and the others as pushed", async () => {
    const registry = new FakeRegistry({ failTag: 'bad' });
    const host = await registry.start();
    try {
      const error = await pushImage(
        { repo: `${host}/app`, source: `oci:${ociLayout(dir)}`, tags: ['1.0', 'bad'], engine: 'registry', retries: 0 },
        { env },
      ).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(PushFailedError);
      expect((error as PushFailedError).outcomes).toEqual([
        expect.objectContaining({ tag: '1.0', status: 'pushed', digest: sha256Digest(manifest) }),
        expect.objectContaining({ tag: 'bad', status: 'failed', error: expect.stringContaining('disk full') }),
      ]);
    } finally {
      await registry.stop();
    }
  });
});

describe('RegistryPushEngine: no source, and no local image for a tag', () => {
  it('advises as the Docker engine does: tag the image first, or give source', async () => {
    const job = ecrJob('127.0.0.1:1', false, { createRepository: async () => undefined }, []);
    const repo = '127.0.0.1:1/app';
    job.args = parsePushArgs({ repo, tags: ['1.0'], engine: 'registry', retries: 0, timeout: 10 });
    // The engine's own default advice, as DockerEngine gives it when asked without one.
    job.dockerEngine = async () =>
      ({
        inspect: async (reference: string, _limits: unknown, hint = 'Build it or pull it first.') => {
          throw new ImageNotFoundError(reference, hint);
        },
      }) as unknown as Awaited<ReturnType<PushJob['dockerEngine']>>;
    const error = await new RegistryPushEngine().push(job).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ImageNotFoundError);
    expect((error as Error).message).toBe(
      `No local image "${repo}:1.0" in the Docker engine. Nothing was pushed. Tag the image first ` +
        `(docker tag <image> ${repo}:1.0), or give source (--source) to have dockpush tag it.`,
    );
  });
});

describe('RegistryPushEngine: credentials given in auth, refused', () => {
  it('says they came from auth, as the Docker engine does, without the password', async () => {
    const registry = new FakeRegistry({ basic: 'AWS:ecr-token' });
    const host = await registry.start();
    try {
      const error = await pushImage(
        {
          repo: `${host}/app`,
          source: `oci:${ociLayout(dir)}`,
          tags: ['1.0'],
          engine: 'registry',
          retries: 0,
          auth: { username: 'AWS', password: 'wrong-secret' },
        },
        { env },
      ).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RegistryAuthError);
      expect((error as Error).message).toMatch(
        /^Cannot authenticate to .*: it refused the credentials for .*\. The registry refused the credentials given in auth \(--username\/--password-stdin\): check the username and password/,
      );
      expect((error as Error).message).not.toContain('wrong-secret');
    } finally {
      await registry.stop();
    }
  });

  it('says they came from DOCKER_AUTH_CONFIG when that gave them', async () => {
    const registry = new FakeRegistry({ basic: 'AWS:ecr-token' });
    const host = await registry.start();
    try {
      const auth = Buffer.from('AWS:wrong-secret').toString('base64');
      const error = await pushImage(
        { repo: `${host}/app`, source: `oci:${ociLayout(dir)}`, tags: ['1.0'], engine: 'registry', retries: 0 },
        { env: { ...env, DOCKER_AUTH_CONFIG: JSON.stringify({ auths: { [host]: { auth } } }) } },
      ).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RegistryAuthError);
      expect((error as Error).message).toMatch(
        /it refused the credentials for .*\. The registry refused the credentials in DOCKER_AUTH_CONFIG: fix them, or unset DOCKER_AUTH_CONFIG/,
      );
      expect((error as Error).message).not.toContain('wrong-secret');
    } finally {
      await registry.stop();
    }
  });
});

describe('RegistryPushEngine: cancellation', () => {
  it('starts no tag after the cancellation: the tags done are reported pushed, with their digest, the rest skipped', async () => {
    const registry = new FakeRegistry();
    const host = await registry.start();
    try {
      const controller = new AbortController();
      const error = await pushImage(
        {
          repo: `${host}/app`,
          source: `oci:${ociLayout(dir)}`,
          tags: ['1.0', '1', 'latest'],
          engine: 'registry',
          concurrency: 1,
        },
        {
          env,
          signal: controller.signal,
          onProgress: (event) => {
            if (event.type === 'tag-done' && event.tag === '1.0') controller.abort();
          },
        },
      ).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(PushCancelledError);
      const { outcomes } = error as PushCancelledError;
      expect(outcomes).toEqual([
        expect.objectContaining({ tag: '1.0', status: 'pushed', digest: sha256Digest(manifest) }),
        expect.objectContaining({ tag: '1', status: 'skipped', reason: 'cancelled' }),
        expect.objectContaining({ tag: 'latest', status: 'skipped', reason: 'cancelled' }),
      ]);
      expect(registry.manifestTags).toEqual(['1.0']);
      expect((error as Error).message).toContain(`1 of 3 tags had completed`);
    } finally {
      await registry.stop();
    }
  });

  it('waits for a manifest already sent when cancelled, and reports its tag as it landed', async () => {
    const registry = new FakeRegistry({ slowTag: { tag: 'latest', ms: 400 } });
    const host = await registry.start();
    try {
      const controller = new AbortController();
      let abortedAt = 0;
      const error = await pushImage(
        { repo: `${host}/app`, source: `oci:${ociLayout(dir)}`, tags: ['1.0', 'latest'], engine: 'registry' },
        {
          env,
          signal: controller.signal,
          onProgress: (event) => {
            if (event.type === 'tag-done' && event.tag === '1.0') {
              abortedAt = Date.now();
              controller.abort();
            }
          },
        },
      ).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(PushCancelledError);
      // The registry holds both tags, and the report says so: nothing landed unreported.
      expect(registry.manifestTags.sort()).toEqual(['1.0', 'latest']);
      expect((error as PushCancelledError).outcomes).toEqual([
        expect.objectContaining({ tag: '1.0', status: 'pushed' }),
        expect.objectContaining({ tag: 'latest', status: 'pushed', digest: sha256Digest(manifest) }),
      ]);
      expect(Date.now() - abortedAt).toBeGreaterThanOrEqual(200);
    } finally {
      await registry.stop();
    }
  });
});
