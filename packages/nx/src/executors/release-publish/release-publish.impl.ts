import type { ExecutorContext } from '@nx/devkit';
import { logger } from '@nx/devkit';
import { pushExecutor, type PushExecutorDependencies } from '../push/push.impl';
import type { PushExecutorSchema } from '../push/schema';
import { dockerVersionFileLabel, resolveReleaseVersion } from './lib/release-version';
import type { ReleasePublishExecutorSchema } from './schema';

/**
 * `@dockpush/nx:release-publish`, a project's `nx-release-publish` target: pushes the
 * version `nx release` resolved, plus `tags` (e.g. `latest`), through the push executor.
 * With `@nx/docker`'s release versioning, pushes the image it tagged, to its repository
 * unless `repo` or `ecrRepo` says otherwise. `type=semver` and `type=match` tag rules render
 * from the resolved version. `nx release --dry-run` pushes nothing.
 */
export async function releasePublishExecutor(
  options: ReleasePublishExecutorSchema,
  context: ExecutorContext,
  dependencies: Partial<PushExecutorDependencies> = {},
): Promise<{ success: boolean }> {
  const log = dependencies.logger ?? logger;
  const {
    nxReleaseVersionData,
    firstRelease: _firstRelease,
    registry: _registry,
    otp: _otp,
    access: _access,
    ...pushOptions
  } = options;
  const projectName = context.projectName ?? '';
  const projectRoot = (projectName && context.projectsConfigurations?.projects[projectName]?.root) || '.';
  const task = `${projectName}:${context.targetName ?? 'nx-release-publish'}`;

  const version = resolveReleaseVersion(nxReleaseVersionData?.[projectName], context.root, projectRoot);
  if (version.kind === 'unchanged') {
    log.info(`nx release resolved no new version for ${projectName}: no image pushed.`);
    return { success: true };
  }
  if (version.kind === 'none') {
    log.error(`NX ${task}: no release version for ${projectName}`);
    log.error(
      `Found none in nx release's data, ${dockerVersionFileLabel(projectRoot)} or ${projectRoot}/package.json. ` +
        `Run nx release (or nx release version before nx release publish).`,
    );
    return { success: false };
  }

  const hasDestination = ['repo', 'image', 'ecrRepo'].some(
    (key) => pushOptions[key as keyof PushExecutorSchema] !== undefined,
  );
  const extraTags = (pushOptions.tags ?? []).filter((tag) => tag !== version.tag);
  const releaseOptions: PushExecutorSchema = {
    ...pushOptions,
    ...(!hasDestination && version.image ? { repo: version.image.repo } : {}),
    ...(pushOptions.source === undefined && version.image && pushOptions.image === undefined
      ? { source: version.image.ref }
      : {}),
    tags: [version.tag, ...extraTags],
  };
  log.info(`Release version ${version.tag} of ${projectName} (from ${version.from}).`);
  // Tag rules such as type=semver render from this version, not the git tag at HEAD, which a
  // dry run (or a release that tags after publishing) has not created.
  return pushExecutor(releaseOptions, context, dependencies, { semver: version.version });
}

export default releasePublishExecutor;
