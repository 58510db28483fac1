import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import Dockerode from 'dockerode';
import { loadE2eEnv } from '../support/env';
import { createTestImage, removeImage } from '../support/images';
import { declaredDevkitPeerRange, expectedDevkitPeerRange, supportedNxReleases } from '../support/nx-versions';
import { createNxWorkspace, expectSuccess, type NxWorkspace } from '../support/nx-workspace';
import { listTags, manifestDigest } from '../support/registry-api';

/**
 * The Nx adapter as users meet it: the real `nx` binary in a scratch workspace that
 * installs the packed @dockpush packages, a real engine, and a real registry:2 whose
 * HTTP API proves every push. The whole file runs once per supported Nx major (the
 * oldest and the newest), each in a workspace of its own with that nx and @nx/devkit.
 */
const env = loadE2eEnv();
const host = env.plain.host;
const docker = new Dockerode();

const projectJson = (name: string, targets: Record<string, unknown> = {}) =>
  JSON.stringify({ name, $schema: '../../node_modules/nx/schemas/project-schema.json', targets }, null, 2);

/** The repository's name inside the registry, e.g. `api-123` for `127.0.0.1:5000/api-123`. */
const repoName = (repo: string) => repo.slice(host.length + 1);

it('the @nx/devkit peer range is the Nx majors this file runs against', () => {
  expect(declaredDevkitPeerRange()).toBe(expectedDevkitPeerRange());
});

describe.each(supportedNxReleases)('@dockpush/nx on Nx $major ($version)', ({ major, version }) => {
  const unique = `${process.pid}-${Date.now().toString(36)}-nx${major}`;

  /** api: a Dockerfile only, so its docker-push comes from the plugin. */
  const apiRepo = `${host}/api-${unique}`;
  /** Where --tag is tried: apart, so api's tag list stays ['latest']. */
  const aliasRepo = `${host}/alias-${unique}`;
  /** web: a docker-build target and, from the generator, an explicit docker-push. */
  const webRepo = `${host}/webapp-${unique}`;
  const webImage = `dockpush-e2e-web:${unique}`;

  let workspace: string;
  let nx: NxWorkspace['nx'];

  function readResult(project: string) {
    return JSON.parse(readFileSync(join(workspace, 'dist', 'docker-push', `${project}.json`), 'utf8')) as {
      image: { id: string; repo: string; tags: string[]; uri: Record<string, string> };
      pushed: { tag: string; uri: string; digest: string; size: number }[];
    };
  }

  beforeAll(async () => {
    ({ dir: workspace, nx } = createNxWorkspace('nx', {
      nxVersion: version,
      // A user's Nx workspace has the @nx/devkit of its nx (nx add brings it).
      nxPackages: ['@nx/devkit'],
      packages: ['@dockpush/nx'],
      files: {
        'apps/api/project.json': projectJson('api'),
        'apps/api/Dockerfile': 'FROM scratch\nCOPY hello.txt /hello.txt\n',
        'apps/web/project.json': projectJson('web', {
          'docker-build': {
            command: `docker build --quiet --tag ${webImage} .`,
            options: { cwd: '{projectRoot}', env: { DOCKER_BUILDKIT: '0' } },
            cache: false,
          },
        }),
        'apps/web/Dockerfile': 'FROM scratch\nCOPY hello.txt /hello.txt\n',
        'apps/web/hello.txt': `web ${unique}\n`,
      },
    }));
    await createTestImage(docker, `${apiRepo}:latest`, { layers: 1, bytesPerLayer: 64 * 1024 });
  }, 300_000);

  afterAll(async () => {
    for (const ref of [`${apiRepo}:latest`, `${aliasRepo}:1.2.3`, webImage, `${webRepo}:1.0.0`, `${webRepo}:latest`]) {
      await removeImage(docker, ref);
    }
  });

  describe('with the real nx binary', () => {
    it('init registers the plugin, which infers docker-push for a project with a Dockerfile', () => {
      expectSuccess(nx(['g', '@dockpush/nx:init', `--repo=${host}/{projectName}-${unique}`]));
      const nxJson = JSON.parse(readFileSync(join(workspace, 'nx.json'), 'utf8')) as { plugins?: unknown[] };
      expect(nxJson.plugins).toEqual([
        { plugin: '@dockpush/nx', options: { targetName: 'docker-push', repo: `${host}/{projectName}-${unique}` } },
      ]);

      const show = nx(['show', 'project', 'api', '--json']);
      expectSuccess(show);
      const project = JSON.parse(show.stdout) as { targets: Record<string, Record<string, unknown>> };
      expect(project.targets['docker-push']).toMatchObject({
        executor: '@dockpush/nx:push',
        cache: false,
        // api has no image build target: nothing to depend on.
        dependsOn: [],
        outputs: ['{options.outputFile}'],
        options: { repo: apiRepo, outputFile: 'dist/docker-push/api.json' },
      });
    });

    it('nx run api:docker-push pushes the image, and the result file holds the digest the registry serves', async () => {
      const run = nx(['run', 'api:docker-push']);
      expectSuccess(run);
      expect(run.output).toContain(`Pushed 1 tag of ${apiRepo}:`);
      expect(run.output).toContain('Result written to dist/docker-push/api.json');
      // Progress, one line per change (not a terminal).
      expect(run.output).toContain(`pushing ${apiRepo}:latest`);

      const result = readResult('api');
      expect(result.image.uri.latest).toBe(`${apiRepo}:latest`);
      expect(await listTags(host, repoName(apiRepo))).toEqual(['latest']);
      expect(result.pushed[0]?.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
      expect(await manifestDigest(host, repoName(apiRepo), 'latest')).toBe(result.pushed[0]?.digest);
    });

    it('takes --tag as the CLI does (an alias of --tags)', async () => {
      const run = nx(['run', 'api:docker-push', `--repo=${aliasRepo}`, `--source=${apiRepo}:latest`, '--tag=1.2.3']);
      expectSuccess(run);
      expect(await listTags(host, repoName(aliasRepo))).toEqual(['1.2.3']);
    });

    it('the configuration generator adds an explicit target after docker-build, and running it again changes nothing', () => {
      const generate = () =>
        nx([
          'g',
          '@dockpush/nx:configuration',
          '--project=web',
          `--repo=${webRepo}`,
          `--source=${webImage}`,
          '--tags=1.0.0',
          '--tags=latest',
        ]);
      expectSuccess(generate());
      const file = join(workspace, 'apps', 'web', 'project.json');
      const written = readFileSync(file, 'utf8');
      expect(JSON.parse(written).targets['docker-push']).toEqual({
        executor: '@dockpush/nx:push',
        dependsOn: ['docker-build'],
        cache: false,
        outputs: ['{options.outputFile}'],
        options: {
          repo: webRepo,
          source: webImage,
          tags: ['1.0.0', 'latest'],
          outputFile: '{workspaceRoot}/dist/docker-push/{projectName}.json',
        },
      });
      expectSuccess(generate());
      expect(readFileSync(file, 'utf8')).toBe(written);

      // project.json wins over the plugin's inferred repository.
      const show = nx(['show', 'project', 'web', '--json']);
      expectSuccess(show);
      expect(JSON.parse(show.stdout).targets['docker-push'].options.repo).toBe(webRepo);
    });

    it('nx run web:docker-push builds the image first, then pushes both tags', async () => {
      await removeImage(docker, webImage);
      const run = nx(['run', 'web:docker-push']);
      expectSuccess(run);
      expect(run.output).toMatch(/nx run web:docker-build[\s\S]*nx run web:docker-push/);

      const result = readResult('web');
      expect(result.image.repo).toBe(webRepo);
      expect((await listTags(host, repoName(webRepo))).sort()).toEqual(['1.0.0', 'latest']);
      for (const pushed of result.pushed) {
        expect(await manifestDigest(host, repoName(webRepo), pushed.tag)).toBe(pushed.digest);
      }
      // Nothing went to the repository the plugin would have inferred.
      expect(await listTags(host, `web-${unique}`)).toEqual([]);
    });

    it.each([
      ['NX_DRY_RUN=true', [], { NX_DRY_RUN: 'true' }],
      ['--dry-run', ['--dry-run'], {}],
    ])('%s prints the plan and pushes nothing', async (_, flags, extraEnv) => {
      const resultFile = join(workspace, 'dist', 'docker-push', 'api.json');
      const before = statSync(resultFile).mtimeMs;
      const run = nx(['run', 'api:docker-push', '--tags=dry', ...flags], extraEnv);
      expectSuccess(run);
      expect(run.output).toContain('nothing was pushed and no file was written');
      expect(run.output).toContain(`${apiRepo}:dry`);
      expect(await listTags(host, repoName(apiRepo))).toEqual(['latest']);
      expect(statSync(resultFile).mtimeMs).toBe(before);
    });

    it('fails with a readable message naming a bad option, and pushes nothing', async () => {
      const run = nx(['run', 'api:docker-push', `--repo=${host}/Not_Lower_Case`]);
      expect(run.status).not.toBe(0);
      expect(run.output).toContain('Invalid option for api:docker-push');
      expect(run.output).toMatch(/✖ repo: .*Not_Lower_Case.*lowercase/);
      expect(await listTags(host, 'Not_Lower_Case'.toLowerCase())).toEqual([]);
    });

    it('fails on an option the executor does not have, through its schema', () => {
      const run = nx(['run', 'api:docker-push', '--tagz=1']);
      expect(run.status).not.toBe(0);
      expect(run.output).toMatch(/tagz/);
    });

    it('fails with a readable message when the local image is missing', async () => {
      const run = nx(['run', 'api:docker-push', `--tags=missing-${unique}`]);
      expect(run.status).not.toBe(0);
      expect(run.output).toContain(`No local image "${apiRepo}:missing-${unique}"`);
      expect(run.output).toContain('api:docker-push failed');
      expect(await listTags(host, repoName(apiRepo))).toEqual(['latest']);
    });
  });
});
