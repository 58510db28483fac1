import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Dockerode from 'dockerode';
import { loadE2eEnv } from '../support/env';
import { removeImage } from '../support/images';
import { sharedNpmRegistry } from '../support/npm-registry';
import { nxDockerRelease } from '../support/nx-versions';
import { createNxWorkspace, expectSuccess, type NxWorkspace } from '../support/nx-workspace';
import { workspaceVersion } from '../support/packages';
import { listTags, manifestDigest } from '../support/registry-api';

/**
 * Zero configuration next to Nx's own `@nx/docker`: a scratch Nx workspace with `@nx/docker`
 * installed and registered, `nx add @dockpush/nx` from the run's npm registry, and nothing
 * else written by hand but the repository in nx.json. The inferred `docker-push` depends on
 * `@nx/docker`'s build target only and pushes the image it names; then the same workspace
 * without `@nx/docker`, with a `docker build -t` target of its own; then without a repository.
 */
const env = loadE2eEnv();
const host = env.plain.host;
const docker = new Dockerode();
const unique = `${process.pid}-${Date.now().toString(36)}`;
/** The project's root names @nx/docker's image (`apps/dweb-1` → `apps-dweb-1`): unique per run. */
const projectRoot = `apps/dweb-${unique}`;
const nxDockerImage = projectRoot.replace('/', '-');
const ownImage = `dockpush-e2e-dweb:${unique}`;
const repoPath = `dweb-${unique}`;
const repo = `${host}/${repoPath}`;

let workspace: NxWorkspace;

const nx = (...args: string[]) => workspace.nx(args);

function readJson<T>(file: string): T {
  return JSON.parse(readFileSync(join(workspace.dir, file), 'utf8')) as T;
}

type Plugin = string | { plugin: string; options?: Record<string, unknown> };

/** Edits nx.json's `plugins`, as a user does by hand. */
function editPlugins(edit: (plugins: Plugin[]) => Plugin[]): void {
  const nxJson = readJson<{ plugins?: Plugin[] }>('nx.json');
  writeFileSync(
    join(workspace.dir, 'nx.json'),
    JSON.stringify({ ...nxJson, plugins: edit(nxJson.plugins ?? []) }, null, 2),
  );
}

function pushTarget(): { dependsOn?: unknown[]; options?: Record<string, unknown> } {
  const show = expectSuccess(nx('show', 'project', 'dweb', '--json'));
  return (JSON.parse(show.stdout) as { targets: Record<string, { dependsOn?: unknown[] }> }).targets['docker-push']!;
}

beforeAll(async () => {
  workspace = createNxWorkspace('nx-docker', {
    nxVersion: nxDockerRelease,
    nxPackages: ['@nx/docker'],
    // @dockpush/nx comes by `nx add`, below; the project's .npmrc points its scope at the registry.
    packages: [],
    npmRegistry: await sharedNpmRegistry(),
    nxJson: {
      // The legacy builder: buildx is not installed on every machine these tests run on.
      plugins: [
        { plugin: '@nx/docker', options: { buildTarget: { name: 'docker:build', env: { DOCKER_BUILDKIT: '0' } } } },
      ],
    },
    // `nx add` installs with npm, which reads the user's npm settings and cache under HOME.
    home: 'user',
    timeout: 300_000,
    files: {
      [`${projectRoot}/project.json`]: JSON.stringify({ name: 'dweb' }, null, 2),
      [`${projectRoot}/Dockerfile`]: 'FROM scratch\nCOPY hello.txt /hello.txt\n',
      [`${projectRoot}/hello.txt`]: `dweb ${unique}\n`,
    },
  });
}, 900_000);

afterAll(async () => {
  for (const ref of [nxDockerImage, ownImage, `${repo}:latest`, `${repo}:own`]) await removeImage(docker, ref);
});

it('nx add @dockpush/nx installs it from the npm registry and registers the plugin', () => {
  expectSuccess(nx('add', '@dockpush/nx'));
  const manifest = readJson<{ devDependencies: Record<string, string> }>('package.json');
  expect(manifest.devDependencies['@dockpush/nx']).toBe(`^${workspaceVersion('@dockpush/nx')}`);
  const plugins = readJson<{ plugins: Plugin[] }>('nx.json').plugins;
  expect(plugins.map((p) => (typeof p === 'string' ? p : p.plugin))).toEqual(['@nx/docker', '@dockpush/nx']);
});

it("infers docker-push depending on @nx/docker's build target only, pushing the image it names", () => {
  // The one line a user writes: where to push.
  editPlugins((plugins) =>
    plugins.map((p) =>
      typeof p !== 'string' && p.plugin === '@dockpush/nx'
        ? { ...p, options: { ...p.options, repo: `${host}/{projectName}-${unique}` } }
        : p,
    ),
  );
  expect(pushTarget()).toMatchObject({
    dependsOn: ['docker:build'],
    options: { repo, source: nxDockerImage },
  });
});

it("nx run dweb:docker-push builds through @nx/docker's target, pushes, and the registry serves the tag", async () => {
  await removeImage(docker, nxDockerImage);
  const result = expectSuccess(nx('run', 'dweb:docker-push'));
  // Nx quotes a target name holding a colon: nx run dweb:"docker:build".
  expect(result.output).toMatch(/nx run dweb:"docker:build"[\s\S]*nx run dweb:docker-push/);
  expect(result.output).toContain(`docker build . --tag ${nxDockerImage}`);
  expect(result.output).toContain(`tagged ${nxDockerImage} as ${repo}:latest`);
  expect(result.output).toContain(`Pushed 1 tag of ${repo}:`);

  const pushed = readJson<{ pushed: { tag: string; digest: string }[] }>('dist/docker-push/dweb.json').pushed;
  expect(pushed.map((p) => p.tag)).toEqual(['latest']);
  expect(await listTags(host, repoPath)).toEqual(['latest']);
  expect(await manifestDigest(host, repoPath, 'latest')).toBe(pushed[0]?.digest);
});

it('without @nx/docker, depends on a docker build -t target of its own and pushes the image it tags', async () => {
  editPlugins((plugins) => plugins.filter((p) => (typeof p === 'string' ? p : p.plugin) !== '@nx/docker'));
  writeFileSync(
    join(workspace.dir, projectRoot, 'project.json'),
    JSON.stringify(
      {
        name: 'dweb',
        targets: {
          'docker-build': {
            command: `docker build --quiet -t ${ownImage} .`,
            options: { cwd: '{projectRoot}', env: { DOCKER_BUILDKIT: '0' } },
            cache: false,
          },
        },
      },
      null,
      2,
    ),
  );
  const target = pushTarget();
  expect(target).toMatchObject({ dependsOn: ['docker-build'], options: { repo, source: ownImage } });

  await removeImage(docker, ownImage);
  const result = expectSuccess(nx('run', 'dweb:docker-push', '--tags=own'));
  expect(result.output).toMatch(/nx run dweb:docker-build[\s\S]*nx run dweb:docker-push/);
  expect((await listTags(host, repoPath)).sort()).toEqual(['latest', 'own']);
});

it('without a repository, fails saying where to set one, and pushes nothing', async () => {
  editPlugins((plugins) =>
    plugins.map((p) => (typeof p !== 'string' && p.plugin === '@dockpush/nx' ? { plugin: p.plugin } : p)),
  );
  expect(pushTarget().options).not.toHaveProperty('repo');
  const result = nx('run', 'dweb:docker-push', '--tags=norepo');
  expect(result.status).not.toBe(0);
  expect(result.output).toContain('dweb:docker-push: no destination');
  expect(result.output).toContain('Set where to push: "repo" in the @dockpush/nx plugin options in nx.json');
  expect((await listTags(host, repoPath)).sort()).toEqual(['latest', 'own']);
});
