import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Dockerode from 'dockerode';
import { loadE2eEnv } from '../support/env';
import { removeImage } from '../support/images';
import { createNxWorkspace, expectSuccess, type NxWorkspace } from '../support/nx-workspace';
import { listTags, manifestDigest } from '../support/registry-api';

/**
 * `nx release` publishing an image: the real `nx release` (Nx 24) in a scratch git
 * repository whose one app has `@dockpush/nx:release-publish` as its nx-release-publish
 * target. Two releases and a dry run; the registry's own tag list proves each.
 */
const env = loadE2eEnv();
const host = env.plain.host;
const docker = new Dockerode();
const unique = `${process.pid}-${Date.now().toString(36)}`;
const repoPath = `release-web-${unique}`;
const repo = `${host}/${repoPath}`;
const localImage = `dockpush-e2e-release-web:${unique}`;

/**
 * Version actions that read and write the project's package.json, as @nx/js's do: the
 * version source of this workspace, without a network install of @nx/js.
 */
const versionActions = `
const { VersionActions } = require('nx/release');
const { join } = require('node:path');

module.exports = class PackageJsonVersionActions extends VersionActions {
  validManifestFilenames = ['package.json'];
  async readCurrentVersionFromSourceManifest(tree) {
    const manifestPath = join(this.projectGraphNode.data.root, 'package.json');
    return { currentVersion: JSON.parse(tree.read(manifestPath, 'utf-8')).version, manifestPath };
  }
  async readCurrentVersionFromRegistry() { return null; }
  async readCurrentVersionOfDependency() { return { currentVersion: null, dependencyCollection: null }; }
  async updateProjectVersion(tree, newVersion) {
    const manifestPath = join(this.projectGraphNode.data.root, 'package.json');
    const manifest = JSON.parse(tree.read(manifestPath, 'utf-8'));
    tree.write(manifestPath, JSON.stringify({ ...manifest, version: newVersion }, null, 2) + '\\n');
    return ['New version ' + newVersion + ' written to ' + manifestPath];
  }
  async updateProjectDependencies() { return []; }
};
`;

let workspace: NxWorkspace;

/** `npx nx release …` in the workspace; its output, after it exited with 0. */
const release = (...args: string[]) => expectSuccess(workspace.nx(['release', ...args])).output;

beforeAll(() => {
  workspace = createNxWorkspace('nx-release', {
    nxVersion: '24.0.0',
    nxPackages: ['@nx/devkit'],
    packages: ['@dockpush/nx'],
    nxJson: {
      release: {
        projects: ['web'],
        version: { versionActions: './tools/package-json-version-actions.js', currentVersionResolver: 'disk' },
        changelog: { workspaceChangelog: false, projectChangelogs: false },
        git: { commit: true, tag: true },
      },
    },
    git: true,
    timeout: 180_000,
    files: {
      'tools/package-json-version-actions.js': versionActions,
      'apps/web/package.json': JSON.stringify({ name: 'web', version: '0.0.0', private: true }, null, 2),
      'apps/web/project.json': JSON.stringify(
        {
          name: 'web',
          targets: {
            'docker-build': {
              command: `docker build --quiet --tag ${localImage} .`,
              options: { cwd: '{projectRoot}', env: { DOCKER_BUILDKIT: '0' } },
              cache: false,
            },
            'nx-release-publish': {
              executor: '@dockpush/nx:release-publish',
              dependsOn: ['docker-build'],
              options: {
                repo,
                source: localImage,
                tags: ['latest'],
                tagRules: ['type=semver,pattern={{major}}.{{minor}}'],
              },
            },
          },
        },
        null,
        2,
      ),
      'apps/web/Dockerfile': 'FROM scratch\nCOPY hello.txt /hello.txt\n',
      'apps/web/hello.txt': `release one ${unique}\n`,
    },
  });
}, 300_000);

afterAll(async () => {
  const tags = ['1.0.0', '1.0', '1.1.0', '1.1', '1.2.0', '1.2', 'latest'];
  for (const ref of [localImage, ...tags.map((tag) => `${repo}:${tag}`)]) {
    await removeImage(docker, ref);
  }
});

it('the first nx release pushes its version, the major.minor its tag rule renders, and latest', async () => {
  const output = release('1.0.0', '--yes');
  expect(output).toContain('Release version 1.0.0 of web (from nx release).');
  expect((await listTags(host, repoPath)).sort()).toEqual(['1.0', '1.0.0', 'latest']);
  const digest = await manifestDigest(host, repoPath, '1.0.0');
  expect(output).toContain(`${repo}:1.0.0   ${digest}`);
  expect(await manifestDigest(host, repoPath, 'latest')).toBe(digest);
});

it('a second nx release pushes the new version and moves latest to it', async () => {
  const first = await manifestDigest(host, repoPath, '1.0.0');
  writeFileSync(join(workspace.dir, 'apps/web/hello.txt'), `release two ${unique}\n`);
  workspace.git('commit', '--quiet', '-am', 'change');

  const output = release('1.1.0', '--yes');
  expect(output).toContain('Release version 1.1.0 of web (from nx release).');
  expect((await listTags(host, repoPath)).sort()).toEqual(['1.0', '1.0.0', '1.1', '1.1.0', 'latest']);
  const second = await manifestDigest(host, repoPath, '1.1.0');
  expect(second).not.toBe(first);
  expect(await manifestDigest(host, repoPath, 'latest')).toBe(second);
  expect(await manifestDigest(host, repoPath, '1.0.0')).toBe(first);
});

it('nx release --dry-run renders the tag rule from the version it resolved, and leaves the registry untouched', async () => {
  const before = await manifestDigest(host, repoPath, 'latest');
  const output = release('1.2.0', '--dry-run', '--yes');
  expect(output).toContain('nothing was pushed');
  expect(output).toContain(`${repo}:1.2.0`);
  // No v1.2.0 git tag exists in a dry run: 1.2 comes from the resolved version, not HEAD's v1.1.0.
  expect(output).toContain(`${repo}:1.2 `);
  expect(output).not.toContain(`${repo}:1.1 `);
  expect((await listTags(host, repoPath)).sort()).toEqual(['1.0', '1.0.0', '1.1', '1.1.0', 'latest']);
  expect(await manifestDigest(host, repoPath, 'latest')).toBe(before);
});
