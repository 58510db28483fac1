import {
  addProjectConfiguration,
  logger,
  readNxJson,
  readProjectConfiguration,
  updateNxJson,
  type TargetConfiguration,
  type Tree,
} from '@nx/devkit';
import { createTreeWithEmptyWorkspace } from '@nx/devkit/testing';
import { configurationGenerator } from './configuration';

afterEach(() => jest.restoreAllMocks());

describe('@dockpush/nx:configuration', () => {
  let tree: Tree;
  beforeEach(() => {
    // The generators report through Nx's logger; keep the test output clean.
    jest.spyOn(logger, 'info').mockImplementation(() => undefined);
    jest.spyOn(logger, 'warn').mockImplementation(() => undefined);
    tree = createTreeWithEmptyWorkspace();
    addProjectConfiguration(tree, 'api', { root: 'apps/api', targets: {} });
  });

  const target = (name = 'docker-push') => readProjectConfiguration(tree, 'api').targets?.[name];

  it('adds an uncached docker-push target pushing to localhost:5000/<project> by default', async () => {
    await configurationGenerator(tree, { project: 'api', skipFormat: true });
    expect(target()).toEqual({
      executor: '@dockpush/nx:push',
      cache: false,
      outputs: ['{options.outputFile}'],
      options: { repo: 'localhost:5000/api', outputFile: '{workspaceRoot}/dist/docker-push/{projectName}.json' },
    });
  });

  it('pushes to the repo given, with its source and tags', async () => {
    await configurationGenerator(tree, {
      project: 'api',
      repo: 'ghcr.io/acme/api',
      source: 'api:dev',
      tags: ['1.0.0', 'latest'],
      skipFormat: true,
    });
    expect(target()?.options).toEqual({
      repo: 'ghcr.io/acme/api',
      source: 'api:dev',
      tags: ['1.0.0', 'latest'],
      outputFile: '{workspaceRoot}/dist/docker-push/{projectName}.json',
    });
  });

  it('pushes to the ECR repository given', async () => {
    await configurationGenerator(tree, {
      project: 'api',
      ecrRepoName: 'acme/api',
      ecrAccountId: '123456789012',
      ecrRegion: 'eu-west-1',
      skipFormat: true,
    });
    expect(target()?.options).toEqual({
      ecrRepo: { repoName: 'acme/api', accountId: '123456789012', awsRegion: 'eu-west-1' },
      outputFile: '{workspaceRoot}/dist/docker-push/{projectName}.json',
    });
  });

  it.each([
    ['docker-build', { 'docker-build': { command: 'echo' }, build: { command: 'tsc' } }],
    ['docker:build', { 'docker:build': { command: 'echo' } }],
    ['image', { build: { command: 'tsc' }, image: { command: 'docker build -t api .' } }],
    ['container', { container: { executor: '@nx-tools/nx-container:build' } }],
    ['pack', { pack: { executor: 'nx:run-commands', options: { commands: ['podman build .'] } } }],
  ])('depends on %s, the target that builds the image', async (expected, targets) => {
    addProjectConfiguration(tree, 'web', { root: 'apps/web', targets });
    await configurationGenerator(tree, { project: 'web', skipFormat: true });
    expect(readProjectConfiguration(tree, 'web').targets?.['docker-push']?.dependsOn).toEqual([expected]);
  });

  it('has no dependsOn when nothing builds an image (a JS build does not)', async () => {
    addProjectConfiguration(tree, 'web', { root: 'apps/web', targets: { build: { command: 'tsc -b' } } });
    await configurationGenerator(tree, { project: 'web', skipFormat: true });
    expect(readProjectConfiguration(tree, 'web').targets?.['docker-push']).not.toHaveProperty('dependsOn');
  });

  it("depends on the docker:build target that @nx/docker infers for a project's Dockerfile", async () => {
    updateNxJson(tree, {
      ...readNxJson(tree),
      plugins: [{ plugin: '@nx/docker', options: { buildTarget: 'image:build' } }],
    });
    tree.write('apps/api/Dockerfile', 'FROM scratch\n');
    await configurationGenerator(tree, { project: 'api', skipFormat: true });
    expect(target()?.dependsOn).toEqual(['image:build']);
  });

  it('is safe to run again: same target, and options given later are merged in', async () => {
    addProjectConfiguration(tree, 'web', {
      root: 'apps/web',
      targets: { 'docker-build': { command: 'docker build .' } },
    });
    await configurationGenerator(tree, { project: 'web', repo: 'ghcr.io/acme/web', skipFormat: true });
    const first = readProjectConfiguration(tree, 'web').targets?.['docker-push'];
    const written = tree.read('apps/web/project.json', 'utf-8');
    await configurationGenerator(tree, { project: 'web', repo: 'ghcr.io/acme/web', skipFormat: true });
    await configurationGenerator(tree, { project: 'web', skipFormat: true });
    // Byte for byte: key order included.
    expect(tree.read('apps/web/project.json', 'utf-8')).toBe(written);

    await configurationGenerator(tree, { project: 'web', tags: ['2.0.0'], skipFormat: true });
    expect(readProjectConfiguration(tree, 'web').targets?.['docker-push']).toEqual({
      ...first,
      options: { ...first?.options, tags: ['2.0.0'] },
    });
  });

  it('replaces the destination when another one is given', async () => {
    await configurationGenerator(tree, { project: 'api', repo: 'ghcr.io/acme/api', skipFormat: true });
    await configurationGenerator(tree, { project: 'api', ecrRepoName: 'acme/api', skipFormat: true });
    expect(target()?.options).not.toHaveProperty('repo');
    expect(target()?.options).toMatchObject({ ecrRepo: { repoName: 'acme/api' } });
  });

  it('keeps what the user added to the target', async () => {
    const custom: TargetConfiguration = {
      executor: '@dockpush/nx:push',
      dependsOn: ['package'],
      options: { repo: 'r.example/api', outputFile: 'out/api.json' },
      configurations: { production: { tags: ['stable'] } },
    };
    addProjectConfiguration(tree, 'svc', { root: 'apps/svc', targets: { 'docker-push': custom } });
    await configurationGenerator(tree, { project: 'svc', skipFormat: true });
    expect(readProjectConfiguration(tree, 'svc').targets?.['docker-push']).toEqual({
      ...custom,
      cache: false,
      outputs: ['{options.outputFile}'],
    });
  });

  it('adds the target under another name', async () => {
    await configurationGenerator(tree, { project: 'api', targetName: 'publish', skipFormat: true });
    expect(target('publish')?.executor).toBe('@dockpush/nx:push');
    expect(target()).toBeUndefined();
  });

  it.each([
    [{ repo: 'a/b', ecrRepoName: 'b' }, /--repo or --ecrRepoName, not both/],
    [{ ecrRegion: 'eu-west-1' }, /--ecrRegion needs --ecrRepoName/],
  ])('refuses contradictory options %j', async (options, message) => {
    await expect(configurationGenerator(tree, { project: 'api', skipFormat: true, ...options })).rejects.toThrow(
      message,
    );
  });

  it('does not overwrite a target of the same name that runs something else', async () => {
    addProjectConfiguration(tree, 'web', {
      root: 'apps/web',
      targets: { 'docker-push': { command: 'docker push x' } },
    });
    await expect(configurationGenerator(tree, { project: 'web', skipFormat: true })).rejects.toThrow(
      /web:docker-push already exists.*--targetName/,
    );
  });

  it('fails on a project that does not exist', async () => {
    await expect(configurationGenerator(tree, { project: 'ghost', skipFormat: true })).rejects.toThrow(/ghost/);
  });
});

describe('@dockpush/nx:configuration: the image the build makes', () => {
  let tree: Tree;
  beforeEach(() => {
    jest.spyOn(logger, 'info').mockImplementation(() => undefined);
    tree = createTreeWithEmptyWorkspace();
  });

  it.each([
    ['docker build -t web:dev .', 'web:dev'],
    ['docker build --tag=web:dev --quiet .', 'web:dev'],
    ['DOCKER_BUILDKIT=0 docker build --quiet --tag "registry.local/web:1" .', 'registry.local/web:1'],
    ['docker build -t web:$VERSION .', undefined],
    ['docker build .', undefined],
  ])('takes source from %j', async (command, source) => {
    const warn = jest.spyOn(logger, 'warn').mockImplementation(() => undefined);
    addProjectConfiguration(tree, 'web', { root: 'apps/web', targets: { 'docker-build': { command } } });
    await configurationGenerator(tree, { project: 'web', skipFormat: true });
    const options = readProjectConfiguration(tree, 'web').targets?.['docker-push']?.options as { source?: string };
    expect(options.source).toBe(source);
    // Without a source, the generator says which local image the target will push.
    expect(warn.mock.calls.some(([m]) => String(m).includes('--source'))).toBe(source === undefined);
  });

  it('explains what to do for a project with no project.json', async () => {
    await expect(configurationGenerator(tree, { project: 'ghost', skipFormat: true })).rejects.toThrow(
      /Cannot find a project\.json for "ghost".*Create <projectRoot>\/project\.json/,
    );
  });
});
