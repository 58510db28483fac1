import { logger, type ExecutorContext } from '@nx/devkit';
import {
  createProgressRenderer,
  detectProgressMode,
  ImageNotFoundError,
  pushImage,
  type PushOptions,
  type PushPlan,
  type PushResult,
  isPushPlan,
} from '@dockpush/core';
import { normalizeOptions } from './lib/normalize-options';
import { cachedBuildTargets } from './lib/cached-build-targets';
import { hasDestination } from './lib/normalize-options';
import {
  reportCachedBuild,
  reportError,
  reportMissingDestination,
  reportPlan,
  reportResult,
  type ExecutorLogger,
} from './lib/report';
import type { PushExecutorSchema } from './schema';

/** Collaborators of the executor, each with a default; tests pass fakes. */
export interface PushExecutorDependencies {
  pushImage: (input: unknown, options: PushOptions) => Promise<PushResult | PushPlan>;
  logger: ExecutorLogger;
  /** Where progress is drawn: live on a terminal, one line per change otherwise. */
  progress: { write(text: string): unknown; isTTY?: boolean };
  env: NodeJS.ProcessEnv;
  /** Emits SIGINT/SIGTERM, which cancel the push. */
  signals: Pick<NodeJS.Process, 'on' | 'off'>;
}

const defaultDependencies = (): PushExecutorDependencies => ({
  pushImage,
  logger,
  progress: process.stderr,
  env: process.env,
  signals: process,
});

/**
 * `@dockpush/nx:push`: pushes a local image with `@dockpush/core` and writes the result
 * where the target's `outputs` point. Never throws: every failure is logged and returns
 * `{ success: false }`.
 */
export async function pushExecutor(
  options: PushExecutorSchema,
  context: ExecutorContext,
  dependencies: Partial<PushExecutorDependencies> = {},
  tagValues: Pick<NonNullable<PushOptions['tagValues']>, 'semver'> = {},
): Promise<{ success: boolean }> {
  const deps = { ...defaultDependencies(), ...dependencies };
  const { args, dryRun, outputFile, task, projectDir, projectName } = normalizeOptions(options, context, deps.env);
  if (!hasDestination(args)) {
    reportMissingDestination(deps.logger, task);
    return { success: false };
  }

  const renderer = dryRun
    ? undefined
    : createProgressRenderer({
        mode: detectProgressMode(deps.progress, deps.env),
        write: (text) => deps.progress.write(text),
        githubGroups: deps.env.GITHUB_ACTIONS === 'true',
      });
  const controller = new AbortController();
  const cancel = (): void => controller.abort();
  deps.signals.on('SIGINT', cancel);
  deps.signals.on('SIGTERM', cancel);
  try {
    const outcome = await deps.pushImage(args, {
      signal: controller.signal,
      env: deps.env,
      cwd: projectDir,
      tagValues: { ...tagValues, ...(projectName ? { projectName } : {}) },
      ...(renderer ? { onProgress: (event) => renderer.onProgress(event) } : {}),
    });
    renderer?.close();
    if (!isPushPlan(outcome)) {
      reportResult(deps.logger, outcome, outputFile, context.root);
    } else {
      reportPlan(deps.logger, outcome, options.dryRun ? 'dryRun' : 'NX_DRY_RUN=true');
    }
    return { success: true };
  } catch (error) {
    renderer?.close();
    reportError(deps.logger, error, task);
    if (error instanceof ImageNotFoundError) reportCachedBuild(deps.logger, cachedBuildTargets(context));
    return { success: false };
  } finally {
    deps.signals.off('SIGINT', cancel);
    deps.signals.off('SIGTERM', cancel);
  }
}

export default pushExecutor;
