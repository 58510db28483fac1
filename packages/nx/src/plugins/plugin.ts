import { basename, dirname, join } from 'node:path';
import {
  createNodesFromFiles,
  type CreateNodes,
  type CreateNodesContext,
  type CreateNodesResult,
  type TargetConfiguration,
} from '@nx/devkit';
import type { PushExecutorSchema } from '../executors/push/schema';
import { interpolateTokensDeep } from '../utils/interpolate-tokens';
import { dockerRepositoryName } from '../utils/repository-name';
import { findImageBuild } from '../utils/image-build';
import { DEFAULT_OUTPUT_FILE, DEFAULT_TARGET_NAME, EXECUTOR } from '../utils/target-defaults';
import { readJsonObject } from '../utils/read-json-object';

/** Options of the `@dockpush/nx` entry in nx.json's `plugins`. */
export interface DockpushPluginOptions {
  /** Name of the inferred target (default `docker-push`). */
  targetName?: string;
  /**
   * Repository pattern, e.g. `registry.example.com/{projectName}`. `{projectName}` is the
   * project's name made a valid Docker repository path (`@org/api` → `org/api`);
   * `{projectRoot}` is also replaced. No default: without it (or a destination in the
   * project's target options) the target fails and says where to set it.
   */
  repo?: string;
  /**
   * Local image to tag and push, e.g. `{projectName}:latest`. By default, the image the
   * project's build target makes (its `docker build -t`, or `@nx/docker`'s naming).
   */
  source?: string;
  /** Tags to push (default `["latest"]`). */
  tags?: string[];
  /**
   * Targets that build the image; `docker-push` depends on these as given. By default,
   * the one the project has: `docker-build`, `docker:build`, a target running
   * `docker build`, or `@nx/docker`'s inferred build target.
   */
  buildTargets?: string[];
}

type NormalizedPluginOptions = Required<Pick<DockpushPluginOptions, 'targetName'>> &
  Pick<DockpushPluginOptions, 'repo' | 'source' | 'tags' | 'buildTargets'>;

const dockerfileGlob = '**/Dockerfile';

/** Infers a `docker-push` target for every project whose root holds a `Dockerfile`. */
export const createNodes: CreateNodes<DockpushPluginOptions> = [
  dockerfileGlob,
  (dockerfiles, options, context) =>
    createNodesFromFiles(
      (dockerfile, pluginOptions, ctx) => createPushTarget(dockerfile, normalizePluginOptions(pluginOptions), ctx),
      dockerfiles,
      options ?? {},
      context,
    ),
];

/**
 * The same, under the name Nx 19–22 look for first (there, `createNodes` meant the older
 * per-file API); Nx 23 and later read `createNodes`.
 */
export const createNodesV2 = createNodes;

function createPushTarget(
  dockerfile: string,
  options: NormalizedPluginOptions,
  context: CreateNodesContext,
): CreateNodesResult {
  const projectRoot = dirname(dockerfile);
  const projectName = projectNameAt(projectRoot, context.workspaceRoot);
  const explicit = explicitTarget(projectRoot, options.targetName, context.workspaceRoot);
  // repo, image and ecrRepo exclude each other, and Nx merges options key by key:
  // a destination set in project.json replaces the inferred one instead of joining it.
  const hasExplicitDestination = ['repo', 'image', 'ecrRepo'].some((key) => explicit?.options?.[key] !== undefined);
  const build = findImageBuild({
    projectRoot,
    targets: writtenTargets(projectRoot, context.workspaceRoot),
    plugins: context.nxJsonConfiguration?.plugins ?? [],
    hasDockerfile: true,
    ...(options.buildTargets ? { candidates: options.buildTargets } : {}),
  });
  const source = options.source ?? (explicit?.options?.image === undefined ? build?.image : undefined);

  const patterns: PushExecutorSchema = {
    ...(hasExplicitDestination || options.repo === undefined ? {} : { repo: options.repo }),
    ...(source !== undefined ? { source } : {}),
    ...(options.tags !== undefined ? { tags: options.tags } : {}),
  };
  const pushOptions: PushExecutorSchema = {
    ...interpolateTokensDeep(patterns, {
      // Left for Nx to resolve, as it does in every target's options.
      workspaceRoot: '{workspaceRoot}',
      projectRoot,
      projectName: dockerRepositoryName(projectName),
    }),
    outputFile: DEFAULT_OUTPUT_FILE,
  };

  const target: TargetConfiguration<PushExecutorSchema> = {
    executor: EXECUTOR,
    dependsOn: options.buildTargets ? [...options.buildTargets] : build ? [build.target] : [],
    cache: false,
    outputs: ['{options.outputFile}'],
    options: pushOptions,
    metadata: {
      technologies: ['docker'],
      description: pushOptions.repo ? `Push the Docker image to ${pushOptions.repo}` : 'Push the Docker image',
    },
  };
  return {
    projects: {
      [projectRoot]: {
        root: projectRoot,
        name: projectName,
        targets: { [options.targetName]: target },
        metadata: { targetGroups: { Docker: [options.targetName] } },
      },
    },
  };
}

function normalizePluginOptions(options: DockpushPluginOptions | undefined): NormalizedPluginOptions {
  return {
    targetName: options?.targetName ?? DEFAULT_TARGET_NAME,
    ...(options?.repo !== undefined ? { repo: options.repo } : {}),
    ...(options?.buildTargets !== undefined ? { buildTargets: options.buildTargets } : {}),
    ...(options?.source !== undefined ? { source: options.source } : {}),
    ...(options?.tags !== undefined ? { tags: options.tags } : {}),
  };
}

/** The project's name as Nx will have it: project.json, else package.json, else the folder. */
function projectNameAt(projectRoot: string, workspaceRoot: string): string {
  for (const file of ['project.json', 'package.json']) {
    const name = readJsonObject(join(workspaceRoot, projectRoot, file))?.name;
    if (typeof name === 'string' && name) return name;
  }
  return basename(projectRoot === '.' ? workspaceRoot : projectRoot);
}

/** The target as written in the project's project.json (or package.json `nx` field), if it is. */
function explicitTarget(
  projectRoot: string,
  targetName: string,
  workspaceRoot: string,
): { options?: Record<string, unknown> } | undefined {
  return writtenTargets(projectRoot, workspaceRoot)[targetName] as { options?: Record<string, unknown> } | undefined;
}

/** The targets written in the project's project.json (or package.json `nx` field). */
function writtenTargets(projectRoot: string, workspaceRoot: string): Record<string, TargetConfiguration> {
  const projectJson = readJsonObject(join(workspaceRoot, projectRoot, 'project.json'));
  const packageJson = readJsonObject(join(workspaceRoot, projectRoot, 'package.json'));
  const targets = projectJson?.targets ?? (packageJson?.nx as { targets?: unknown } | undefined)?.targets;
  return targets !== null && typeof targets === 'object' ? (targets as Record<string, TargetConfiguration>) : {};
}
