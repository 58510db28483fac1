import { logger, readNxJson, updateNxJson, type Tree } from '@nx/devkit';
import { createTreeWithEmptyWorkspace } from '@nx/devkit/testing';
import { initGenerator } from './init';

afterEach(() => jest.restoreAllMocks());

describe('@dockpush/nx:init', () => {
  let tree: Tree;
  beforeEach(() => {
    // The generators report through Nx's logger; keep the test output clean.
    jest.spyOn(logger, 'info').mockImplementation(() => undefined);
    jest.spyOn(logger, 'warn').mockImplementation(() => undefined);
    tree = createTreeWithEmptyWorkspace();
  });

  it('registers the plugin in nx.json with its default options', async () => {
    await initGenerator(tree, { skipFormat: true });
    expect(readNxJson(tree)?.plugins).toContainEqual({
      plugin: '@dockpush/nx',
      options: { targetName: 'docker-push', repo: 'localhost:5000/{projectName}' },
    });
  });

  it('takes the target name and repository pattern given', async () => {
    await initGenerator(tree, { skipFormat: true, targetName: 'push', repo: 'ghcr.io/acme/{projectName}' });
    expect(readNxJson(tree)?.plugins).toContainEqual({
      plugin: '@dockpush/nx',
      options: { targetName: 'push', repo: 'ghcr.io/acme/{projectName}' },
    });
  });

  it.each([
    ['a string', '@dockpush/nx'],
    ['an object', { plugin: '@dockpush/nx', options: { repo: 'mine/{projectName}' } }],
  ])('changes nothing when the plugin is registered as %s already', async (_, entry) => {
    const nxJson = readNxJson(tree) ?? {};
    updateNxJson(tree, { ...nxJson, plugins: [entry] });
    const before = tree.read('nx.json', 'utf-8');
    await initGenerator(tree, { skipFormat: true });
    await initGenerator(tree, { skipFormat: true });
    expect(tree.read('nx.json', 'utf-8')).toBe(before);
  });

  it('keeps the other plugins', async () => {
    const nxJson = readNxJson(tree) ?? {};
    updateNxJson(tree, { ...nxJson, plugins: ['@nx/js/typescript'] });
    await initGenerator(tree, { skipFormat: true });
    expect(readNxJson(tree)?.plugins?.map((p) => (typeof p === 'string' ? p : p.plugin))).toEqual([
      '@nx/js/typescript',
      '@dockpush/nx',
    ]);
  });
});
