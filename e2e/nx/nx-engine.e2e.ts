import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Dockerode from 'dockerode';
import { loadE2eEnv } from '../support/env';
import { createTestImage, removeImage } from '../support/images';
import { supportedNxReleases } from '../support/nx-versions';
import { createNxWorkspace, expectSuccess, type NxWorkspace } from '../support/nx-workspace';
import { saveImage } from '../support/registry-engine';
import { listTags, manifestDigest } from '../support/registry-api';

/**
 * `@dockpush/nx:push` with the registry engine, run by the real `nx` binary (the newest
 * supported Nx): from a local image (`engine: "registry"`), and from a `docker save`
 * archive (`source: "docker-archive:…"`, which only the registry engine reads). The
 * registry's API proves each push: the digest it serves is the one in the result file.
 */
const env = loadE2eEnv();
const host = env.plain.host;
const docker = new Dockerode();
const newest = supportedNxReleases[supportedNxReleases.length - 1] as (typeof supportedNxReleases)[number];

const unique = `${process.pid}-${Date.now().toString(36)}`;
const localImage = `dockpush-e2e-nx-engine:${unique}`;
const engineRepo = `${host}/nx-engine-${unique}`;
const archiveRepo = `${host}/nx-archive-${unique}`;
let archive: string;
let workspace: NxWorkspace;

/** `npx nx …` in the workspace, after it exited with 0. */
const nx = (args: string[]) => expectSuccess(workspace.nx(args));

function readResult(name: string) {
  return JSON.parse(readFileSync(join(workspace.dir, 'dist', `${name}.json`), 'utf8')) as {
    engine: string;
    pushed: { tag: string; uri: string; digest: string }[];
  };
}

beforeAll(async () => {
  await createTestImage(docker, localImage, { layers: 2, bytesPerLayer: 64 * 1024 });
  archive = saveImage(localImage);
  const target = (outputFile: string, options: Record<string, unknown>) => ({
    executor: '@dockpush/nx:push',
    outputs: ['{options.outputFile}'],
    options: { outputFile, ...options },
  });
  workspace = createNxWorkspace('nx-engine', {
    nxVersion: newest.version,
    nxPackages: ['@nx/devkit'],
    packages: ['@dockpush/nx'],
    files: {
      'apps/app/project.json': JSON.stringify(
        {
          name: 'app',
          targets: {
            'docker-push': target('dist/engine.json', {
              repo: engineRepo,
              source: localImage,
              tags: ['1.0.0'],
              engine: 'registry',
            }),
            'docker-push-archive': target('dist/archive.json', {
              repo: archiveRepo,
              source: `docker-archive:${archive}`,
              tags: ['1.0.0'],
            }),
          },
        },
        null,
        2,
      ),
    },
  });
}, 300_000);

afterAll(async () => {
  await removeImage(docker, localImage);
});

it('nx run app:docker-push with engine: "registry" pushes the local image, with the digest the registry serves', async () => {
  const run = nx(['run', 'app:docker-push']);
  expect(run.output).toContain(`Pushed 1 tag of ${engineRepo}:`);
  const result = readResult('engine');
  expect(result.engine).toBe('registry');
  expect(await listTags(host, engineRepo.slice(host.length + 1))).toEqual(['1.0.0']);
  expect(result.pushed[0]?.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
  expect(await manifestDigest(host, engineRepo.slice(host.length + 1), '1.0.0')).toBe(result.pushed[0]?.digest);
});

it('a docker-archive: source needs no engine option: the registry engine pushes the archive', async () => {
  nx(['run', 'app:docker-push-archive']);
  const result = readResult('archive');
  expect(result.engine).toBe('registry');
  expect(await listTags(host, archiveRepo.slice(host.length + 1))).toEqual(['1.0.0']);
  expect(await manifestDigest(host, archiveRepo.slice(host.length + 1), '1.0.0')).toBe(result.pushed[0]?.digest);
});
