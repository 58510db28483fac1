import { isAbsolute, resolve } from 'node:path';
import type { ExecutorContext } from '@nx/devkit';
import type { PushArgsInput } from '@dockpush/core';
import { interpolateTokens, interpolateTokensDeep } from '../../../utils/interpolate-tokens';
import { DEFAULT_OUTPUT_FILE } from '../../../utils/target-defaults';
import type { PushExecutorSchema } from '../schema';

export interface NormalizedPushOptions {
  /** What goes to core's `pushImage`: tokens resolved, `outputFile` absolute (absent in a dry run). */
  args: PushArgsInput;
  dryRun: boolean;
  /** Absolute path of the result file. */
  outputFile: string;
  /** `project:target`, for messages. */
  task: string;
  /** The project's directory: where tag rules read git and `{version}` reads package.json. */
  projectDir: string;
  projectName: string;
}

/** Credentials are never templates: leave them exactly as given. */
const NOT_INTERPOLATED = new Set(['auth']);

/**
 * Resolves Nx tokens in every string option (Nx does so for project.json, not for
 * command-line overrides), applies the default `outputFile`, makes it absolute against the
 * workspace root, and turns on the dry run for `dryRun` or `NX_DRY_RUN=true`.
 * A dry run writes no file: like `nx release --dry-run`, it changes nothing.
 */
export function normalizeOptions(
  options: PushExecutorSchema,
  context: ExecutorContext,
  env: NodeJS.ProcessEnv = process.env,
): NormalizedPushOptions {
  const projectName = context.projectName ?? '';
  const projectRoot = (projectName && context.projectsConfigurations?.projects[projectName]?.root) || '.';
  const tokens = { workspaceRoot: context.root, projectRoot, projectName };

  const interpolated = interpolateTokensDeep({ ...options }, tokens, NOT_INTERPOLATED);
  const outputFile = absolute(interpolateTokens(interpolated.outputFile ?? DEFAULT_OUTPUT_FILE, tokens), context.root);
  const dryRun = interpolated.dryRun === true || env.NX_DRY_RUN === 'true';

  const args: PushArgsInput = { ...interpolated, dryRun };
  if (dryRun) delete args.outputFile;
  else args.outputFile = outputFile;

  return {
    args,
    dryRun,
    outputFile,
    task: `${projectName}:${context.targetName ?? 'docker-push'}`,
    projectDir: absolute(projectRoot, context.root),
    projectName,
  };
}

function absolute(path: string, root: string): string {
  return isAbsolute(path) ? path : resolve(root, path);
}

/** Whether the options name where to push: one of `repo`, `image`, `ecrRepo`. */
export function hasDestination(args: PushArgsInput): boolean {
  const given = args as Record<string, unknown>;
  return ['repo', 'image', 'ecrRepo', 'ecr_repo'].some((key) => given[key] !== undefined);
}
