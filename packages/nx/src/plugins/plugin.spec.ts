import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { CreateNodesContext, CreateNodesResult, TargetConfiguration } from '@nx/devkit';
import { createNodes, createNodesV2, type DockpushPluginOptions } from './plugin';

function workspace(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'dockpush-nx-plugin-'));
  for (const [file, content] of Object.entries(files)) {
    mkdirSync(dirname(join(root, file)), { recursive: true });
    writeFileSync(join(root, file), content);
  }
  return root;
}

async function infer(root: string, dockerfiles: string[], options?: DockpushPluginOptions) {
  const context: CreateNodesContext = { nxJsonConfiguration: {}, workspaceRoot: root };
  const results = await createNodes[1](dockerfiles, options, context);
  return Object.fromEntries(results.map(([file, result]) => [file, result])) as Record<string, CreateNodesResult>;
}

function pushTarget(result: CreateNodesResult | undefined, root: string, name = 'docker-push') {
  return result?.projects?.[root]?.targets?.[name] as TargetConfiguration | undefined;
}

describe('the @dockpush/nx plugin', () => {
  it('matches every Dockerfile, under createNodes and its createNodesV2 alias', () => {
    expect(createNodes[0]).toBe('**/Dockerfile');
    expect(createNodesV2).toBe(createNodes);
  });

  it('infers an uncached docker-push target, with the repository of the plugin options', async () => {
    const root = workspace({ 'apps/api/Dockerfile': 'FROM scratch\n' });
    const results = await infer(root, ['apps/api/Dockerfile'], { repo: 'localhost:5000/{projectName}' });
    expect(results['apps/api/Dockerfile']?.projects?.['apps/api']).toMatchObject({ root: 'apps/api', name: 'api' });
    expect(pushTarget(results['apps/api/Dockerfile'], 'apps/api')).toEqual({
      executor: '@dockpush/nx:push',
      dependsOn: [],
      cache: false,
      outputs: ['{options.outputFile}'],
      options: {
        repo: 'localhost:5000/api',
        outputFile: '{workspaceRoot}/dist/docker-push/{projectName}.json',
      },
      metadata: { technologies: ['docker'], description: 'Push the Docker image to localhost:5000/api' },
    });
  });

  it('sets no destination of its own when the plugin options give none', async () => {
    const root = workspace({ 'apps/api/Dockerfile': 'FROM scratch\n' });
    const target = pushTarget((await infer(root, ['apps/api/Dockerfile']))['apps/api/Dockerfile'], 'apps/api');
    expect(target?.options).toEqual({ outputFile: '{workspaceRoot}/dist/docker-push/{projectName}.json' });
  });

  it.each([
    [
      'docker-build with docker build -t',
      { 'docker-build': { command: 'docker build -t api:dev .' } },
      'docker-build',
      'api:dev',
    ],
    [
      'a target running docker build --tag= in options.command',
      { image: { options: { command: 'DOCKER_BUILDKIT=0 docker build --tag={projectName}:ci .' } } },
      'image',
      'api:ci',
    ],
    [
      "a build executor's tags",
      { container: { executor: '@nx-tools/nx-container:build', options: { tags: ['acme/api:edge'] } } },
      'container',
      'acme/api:edge',
    ],
  ])('pushes the image that %s makes, and depends on that target only', async (_, targets, target, source) => {
    const root = workspace({
      'apps/api/Dockerfile': '',
      'apps/api/project.json': JSON.stringify({ name: 'api', targets }),
    });
    const inferred = pushTarget(
      (await infer(root, ['apps/api/Dockerfile'], { repo: 'r.example/{projectName}' }))['apps/api/Dockerfile'],
      'apps/api',
    );
    expect(inferred).toMatchObject({ dependsOn: [target], options: { repo: 'r.example/api', source } });
  });

  it('with @nx/docker in nx.json, depends on its docker:build only and pushes its image (apps-web for apps/web)', async () => {
    const root = workspace({ 'apps/web/Dockerfile': '', 'apps/web/project.json': '{"name":"web"}' });
    const context: CreateNodesContext = {
      nxJsonConfiguration: { plugins: ['@nx/docker', { plugin: '@dockpush/nx', options: {} }] },
      workspaceRoot: root,
    };
    const results = await createNodes[1](['apps/web/Dockerfile'], { repo: 'r.example/{projectName}' }, context);
    const target = pushTarget(results[0]?.[1], 'apps/web');
    expect(target).toMatchObject({
      dependsOn: ['docker:build'],
      options: { repo: 'r.example/web', source: 'apps-web' },
    });
  });

  it.each([
    ['lowercase', 'apps/MyWeb', 'apps-myweb'],
    ['spaces as -', 'apps/my web', 'apps-my-web'],
    ['at most 128 characters, the last ones', `apps/${'w'.repeat(130)}`, 'w'.repeat(128)],
  ])('names the image as @nx/docker does: %s', async (_, projectRoot, image) => {
    const root = workspace({ [`${projectRoot}/Dockerfile`]: '', [`${projectRoot}/project.json`]: '{"name":"web"}' });
    const context: CreateNodesContext = { nxJsonConfiguration: { plugins: ['@nx/docker'] }, workspaceRoot: root };
    const results = await createNodes[1]([`${projectRoot}/Dockerfile`], { repo: 'r.example/web' }, context);
    expect(pushTarget(results[0]?.[1], projectRoot)?.options).toMatchObject({ source: image });
  });

  it("follows @nx/docker's buildTarget option and a --tag in its args", async () => {
    const root = workspace({ 'apps/web/Dockerfile': '' });
    const context: CreateNodesContext = {
      nxJsonConfiguration: {
        plugins: [{ plugin: '@nx/docker', options: { buildTarget: { name: 'image', args: ['--tag web:local'] } } }],
      },
      workspaceRoot: root,
    };
    const results = await createNodes[1](['apps/web/Dockerfile'], { repo: 'r.example/web' }, context);
    expect(pushTarget(results[0]?.[1], 'apps/web')).toMatchObject({
      dependsOn: ['image'],
      options: { source: 'web:local' },
    });
  });

  it.each([
    ['project.json', { 'svc/Dockerfile': '', 'svc/project.json': '{"name":"billing"}' }, 'billing', 'billing'],
    [
      'package.json',
      { 'svc/Dockerfile': '', 'svc/package.json': '{"name":"@acme/Billing"}' },
      '@acme/Billing',
      'acme/billing',
    ],
    ['the folder', { 'svc/Dockerfile': '' }, 'svc', 'svc'],
  ])('names the project after %s and makes the repository a valid Docker name', async (_, files, name, repoName) => {
    const root = workspace(files);
    const result = (await infer(root, ['svc/Dockerfile'], { repo: 'localhost:5000/{projectName}' }))['svc/Dockerfile'];
    expect(result?.projects?.svc?.name).toBe(name);
    expect(pushTarget(result, 'svc')?.options).toMatchObject({ repo: `localhost:5000/${repoName}` });
  });

  it('applies the plugin options: target name, repository pattern, source, tags and build targets', async () => {
    const root = workspace({ 'apps/web/Dockerfile': '' });
    const result = (
      await infer(root, ['apps/web/Dockerfile'], {
        targetName: 'publish',
        repo: 'ghcr.io/acme/{projectName}',
        source: '{projectName}:dev',
        tags: ['{projectName}-latest'],
        buildTargets: ['container'],
      })
    )['apps/web/Dockerfile'];
    expect(pushTarget(result, 'apps/web')).toBeUndefined();
    expect(pushTarget(result, 'apps/web', 'publish')).toMatchObject({
      dependsOn: ['container'],
      options: { repo: 'ghcr.io/acme/web', source: 'web:dev', tags: ['web-latest'] },
    });
    expect(result?.projects?.['apps/web']?.metadata).toEqual({ targetGroups: { Docker: ['publish'] } });
  });

  it.each([
    ['ecrRepo', { ecrRepo: { repoName: 'team/api' } }],
    ['repo', { repo: 'ghcr.io/acme/api' }],
    ['image', { image: 'api:1' }],
  ])('leaves the destination out when project.json sets %s, so its own wins', async (_, options) => {
    const root = workspace({
      'api/Dockerfile': '',
      'api/project.json': JSON.stringify({ name: 'api', targets: { 'docker-push': { options } } }),
    });
    const target = pushTarget((await infer(root, ['api/Dockerfile']))['api/Dockerfile'], 'api');
    expect(target?.options).toEqual({ outputFile: '{workspaceRoot}/dist/docker-push/{projectName}.json' });
  });

  it('keeps the inferred repository when project.json only adds other options', async () => {
    const root = workspace({
      'api/Dockerfile': '',
      'api/project.json': JSON.stringify({ name: 'api', targets: { 'docker-push': { options: { tags: ['1'] } } } }),
    });
    const target = pushTarget(
      (await infer(root, ['api/Dockerfile'], { repo: 'localhost:5000/{projectName}' }))['api/Dockerfile'],
      'api',
    );
    expect(target?.options).toMatchObject({ repo: 'localhost:5000/api' });
  });

  it('reads a package.json nx.targets entry as explicit configuration too', async () => {
    const root = workspace({
      'api/Dockerfile': '',
      'api/package.json': JSON.stringify({
        name: 'api',
        nx: { targets: { 'docker-push': { options: { repo: 'x/y' } } } },
      }),
    });
    const target = pushTarget((await infer(root, ['api/Dockerfile']))['api/Dockerfile'], 'api');
    expect(target?.options).not.toHaveProperty('repo');
  });

  it('names a project at the workspace root after the workspace folder', async () => {
    const root = workspace({ Dockerfile: '' });
    const result = (await infer(root, ['Dockerfile']))['Dockerfile'];
    expect(result?.projects?.['.']?.name).toMatch(/^dockpush-nx-plugin-/);
  });

  it('survives a broken project.json and names the project after its folder', async () => {
    const root = workspace({ 'api/Dockerfile': '', 'api/project.json': '{ not json' });
    const result = (await infer(root, ['api/Dockerfile']))['api/Dockerfile'];
    expect(result?.projects?.api?.name).toBe('api');
  });
});
