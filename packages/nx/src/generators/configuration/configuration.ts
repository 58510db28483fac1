import {
  formatFiles,
  logger,
  readNxJson,
  readProjectConfiguration,
  updateProjectConfiguration,
  type ProjectConfiguration,
  type TargetConfiguration,
  type Tree,
} from '@nx/devkit';
import type { EcrRepoArgs } from '@dockpush/core';
import type { PushExecutorSchema } from '../../executors/push/schema';
import { dockerRepositoryName } from '../../utils/repository-name';
import { findImageBuild, imageTagOf } from '../../utils/image-build';
import { DEFAULT_OUTPUT_FILE, DEFAULT_TARGET_NAME, EXECUTOR } from '../../utils/target-defaults';
import type { ConfigurationGeneratorSchema } from './schema';

/**
 * `nx g @dockpush/nx:configuration --project=app [--repo … | --ecrRepoName …]`: writes a
 * `docker-push` target into the project's configuration, depending on the target that
 * builds the image. Running it again keeps what is there and applies only what is given.
 */
export async function configurationGenerator(tree: Tree, schema: ConfigurationGeneratorSchema): Promise<void> {
  const destination = destinationOf(schema);
  const project = readProjectOrExplain(tree, schema.project);
  const targetName = schema.targetName ?? DEFAULT_TARGET_NAME;
  const targets = project.targets ?? {};
  const existing = targets[targetName] as TargetConfiguration<PushExecutorSchema> | undefined;
  if (existing && (existing.command !== undefined || (existing.executor && existing.executor !== EXECUTOR))) {
    throw new Error(
      `${schema.project}:${targetName} already exists and runs ${existing.executor ?? 'a command'}; ` +
        `pick another name with --targetName`,
    );
  }

  const buildTarget = schema.buildTarget ?? findImageBuildTarget(tree, project);
  if (schema.buildTarget && !targets[schema.buildTarget]) {
    logger.warn(`${schema.project} has no ${schema.buildTarget} target in its configuration; is it inferred?`);
  }

  // Destination first, then the rest in the order already written, so a second run
  // with the same options rewrites the file byte for byte.
  const { repo, image, ecrRepo, ...previous }: PushExecutorSchema = { ...existing?.options };
  const current = {
    ...(repo !== undefined ? { repo } : {}),
    ...(image !== undefined ? { image } : {}),
    ...(ecrRepo ? { ecrRepo } : {}),
  };
  // The image the build target tags (`docker build -t app:dev`) is the one to push.
  const builtImage = buildTarget && targets[buildTarget] ? imageTagOf(targets[buildTarget]) : undefined;
  const source = schema.source ?? (previous.source === undefined ? builtImage : undefined);
  const options: PushExecutorSchema = {
    ...(destination ??
      (Object.keys(current).length > 0 ? current : { repo: `localhost:5000/${dockerRepositoryName(schema.project)}` })),
    ...previous,
    ...(source !== undefined ? { source } : {}),
    ...(schema.tags !== undefined ? { tags: schema.tags } : {}),
    outputFile: previous.outputFile ?? DEFAULT_OUTPUT_FILE,
  };

  const dependsOn = [...(existing?.dependsOn ?? [])];
  if (buildTarget && !dependsOn.includes(buildTarget)) dependsOn.push(buildTarget);

  const target: TargetConfiguration<PushExecutorSchema> = {
    ...existing,
    executor: EXECUTOR,
    ...(dependsOn.length > 0 ? { dependsOn } : {}),
    // A push changes a registry: replaying it from the cache would be a lie.
    cache: false,
    outputs: union(existing?.outputs, ['{options.outputFile}']),
    options,
  };
  updateProjectConfiguration(tree, schema.project, { ...project, targets: { ...targets, [targetName]: target } });

  const where =
    options.repo ??
    (options.ecrRepo
      ? `ECR repository ${options.ecrRepo.repoName}`
      : typeof options.image === 'string'
        ? options.image
        : options.image?.repo);
  logger.info(
    `${existing ? 'Updated' : 'Added'} ${schema.project}:${targetName} (pushes to ${where}` +
      `${buildTarget ? `, after ${buildTarget}` : ''}). Run: nx run ${schema.project}:${targetName}`,
  );
  if (options.source === undefined && options.image === undefined) {
    logger.warn(
      `${schema.project}:${targetName} pushes the local image ${where}:<tag> for each tag. If your build tags ` +
        'the image another way, give that tag with --source (e.g. --source=app:dev), and dockpush will tag it for you.',
    );
  }
  if (!schema.skipFormat) await formatFiles(tree);
}

/** The project's configuration, or an error saying what to do for a project with none on disk. */
function readProjectOrExplain(tree: Tree, name: string): ProjectConfiguration {
  try {
    return readProjectConfiguration(tree, name);
  } catch (error) {
    throw new Error(
      `Cannot find a project.json for "${name}" (a project whose targets are all inferred has none). ` +
        `Create <projectRoot>/project.json with {"name": "${name}"} and run this again, or rely on the ` +
        `@dockpush/nx plugin's inferred docker-push target (nx g @dockpush/nx:init).`,
      { cause: error },
    );
  }
}

export default configurationGenerator;

/** The destination given on the command line, or undefined when none is. */
function destinationOf(schema: ConfigurationGeneratorSchema): Pick<PushExecutorSchema, 'repo' | 'ecrRepo'> | undefined {
  const ecrOnly = (['ecrAccountId', 'ecrRegion', 'ecrRegistryAlias'] as const).filter((k) => schema[k] !== undefined);
  if (schema.repo !== undefined && schema.ecrRepoName !== undefined) {
    throw new Error('Give --repo or --ecrRepoName, not both: a target pushes to one repository.');
  }
  if (schema.ecrRepoName === undefined && ecrOnly.length > 0) {
    throw new Error(`--${ecrOnly.join(', --')} need${ecrOnly.length === 1 ? 's' : ''} --ecrRepoName.`);
  }
  if (schema.repo !== undefined) return { repo: schema.repo };
  if (schema.ecrRepoName === undefined) return undefined;
  const ecrRepo: EcrRepoArgs = {
    repoName: schema.ecrRepoName,
    ...(schema.ecrAccountId !== undefined ? { accountId: schema.ecrAccountId } : {}),
    ...(schema.ecrRegion !== undefined ? { awsRegion: schema.ecrRegion } : {}),
    ...(schema.ecrRegistryAlias !== undefined ? { registryAlias: schema.ecrRegistryAlias } : {}),
  };
  return { ecrRepo };
}

/** The target that builds the project's image (see findImageBuild). */
function findImageBuildTarget(tree: Tree, project: ProjectConfiguration): string | undefined {
  return findImageBuild({
    projectRoot: project.root,
    targets: project.targets ?? {},
    plugins: readNxJson(tree)?.plugins ?? [],
    hasDockerfile: tree.exists(`${project.root}/Dockerfile`),
  })?.target;
}

function union(a: string[] | undefined, b: string[]): string[] {
  return [...new Set([...(a ?? []), ...b])];
}
