/** A spec-only fixture: kept out of the build and of the published package. */
import type { ExecutorContext } from '@nx/devkit';

/** The context Nx hands an executor run as `api:docker-push`, project `api` at apps/api, workspace at `root`. */
export function fakeExecutorContext(root: string, overrides: Partial<ExecutorContext> = {}): ExecutorContext {
  return {
    root,
    cwd: root,
    projectName: 'api',
    targetName: 'docker-push',
    isVerbose: false,
    projectsConfigurations: { version: 2, projects: { api: { root: 'apps/api' } } },
    nxJsonConfiguration: {},
    projectGraph: { nodes: {}, dependencies: {} },
    ...overrides,
  };
}
