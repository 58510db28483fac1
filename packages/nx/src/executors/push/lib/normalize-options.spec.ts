import type { ExecutorContext } from '@nx/devkit';
import { fakeExecutorContext } from '../../../testing/executor-context';
import { normalizeOptions } from './normalize-options';

function fakeContext(overrides: Partial<ExecutorContext> = {}): ExecutorContext {
  return fakeExecutorContext('/ws', overrides);
}

describe('normalizeOptions', () => {
  it('resolves Nx tokens in every string option, nested ones included', () => {
    const { args } = normalizeOptions(
      {
        repo: 'localhost:5000/{projectName}',
        source: '{projectName}:dev',
        tags: ['{projectName}-1', 'latest'],
        outputFile: '{workspaceRoot}/out/{projectRoot}.json',
      },
      fakeContext(),
      {},
    );
    expect(args).toEqual({
      repo: 'localhost:5000/api',
      source: 'api:dev',
      tags: ['api-1', 'latest'],
      outputFile: '/ws/out/apps/api.json',
      dryRun: false,
    });
  });

  it('leaves credentials exactly as given', () => {
    const auth = { username: 'ci', password: 'p{projectName}' };
    expect(normalizeOptions({ repo: 'r/x', auth }, fakeContext(), {}).args.auth).toEqual(auth);
  });

  it('writes the result to dist/docker-push/<project>.json by default', () => {
    const normalized = normalizeOptions({ repo: 'localhost:5000/api' }, fakeContext(), {});
    expect(normalized.outputFile).toBe('/ws/dist/docker-push/api.json');
    expect(normalized.args.outputFile).toBe('/ws/dist/docker-push/api.json');
    expect(normalized.task).toBe('api:docker-push');
  });

  it('resolves a relative outputFile against the workspace root, not the cwd', () => {
    const normalized = normalizeOptions(
      { repo: 'r/x', outputFile: 'dist/push.json' },
      fakeContext({ cwd: '/ws/apps/api' }),
      {},
    );
    expect(normalized.outputFile).toBe('/ws/dist/push.json');
  });

  it.each([
    [{ dryRun: true }, {}, true],
    [{}, { NX_DRY_RUN: 'true' }, true],
    [{ dryRun: false }, { NX_DRY_RUN: 'true' }, true],
    [{}, { NX_DRY_RUN: 'false' }, false],
    [{}, {}, false],
  ])('dryRun %j with env %j → dry run %s, and no file then', (options, env, dryRun) => {
    const normalized = normalizeOptions({ repo: 'r/x', ...options }, fakeContext(), env);
    expect(normalized.dryRun).toBe(dryRun);
    expect(normalized.args.dryRun).toBe(dryRun);
    expect('outputFile' in normalized.args).toBe(!dryRun);
  });

  it('uses the workspace root as project root for an unknown project', () => {
    const { args } = normalizeOptions(
      { repo: 'r/x', outputFile: '{projectRoot}/r.json' },
      fakeContext({ projectName: 'ghost' }),
      {},
    );
    expect(args.outputFile).toBe('/ws/r.json');
  });
});
