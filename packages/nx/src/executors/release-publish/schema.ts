import type { PushArgsInput } from '@dockpush/core';

/** What `nx release` knows about one project after versioning it. */
export interface ReleaseVersionDataEntry {
  currentVersion?: string | null;
  /** `null` when the release found nothing to release for the project. */
  newVersion: string | null;
  /** Set when `@nx/docker`'s release versioning ran for the project. */
  dockerVersion?: string | null;
}

/**
 * Options of `@dockpush/nx:release-publish`: the push executor's, where `tags` are the
 * tags pushed besides the released version, and what `nx release publish` passes to
 * every `nx-release-publish` target.
 */
export type ReleasePublishExecutorSchema = PushArgsInput & {
  /** Passed by `nx release`: each released project's versions. */
  nxReleaseVersionData?: Record<string, ReleaseVersionDataEntry>;
  /** Passed by `nx release --first-release`; nothing differs for an image. */
  firstRelease?: boolean;
  /** npm's options, passed by `nx release publish` to every project; they do not apply to an image. */
  registry?: string;
  otp?: string | number;
  access?: string;
};
