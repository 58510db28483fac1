import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { splitRepoTag } from '@dockpush/core';
import type { ReleaseVersionDataEntry } from '../schema';
import { readJsonObject } from '../../../utils/read-json-object';

/** Where `@nx/docker`'s release versioning writes the image reference it tagged. */
export function dockerVersionFile(workspaceRoot: string, projectRoot: string): string {
  return join(workspaceRoot, 'tmp', projectRoot, '.docker-version');
}

export type ReleaseVersion =
  | {
      kind: 'version';
      /** The version as resolved, for tag rules (`type=semver` renders from it). */
      version: string;
      /** The version as a Docker tag (`+build` metadata becomes `-build`, as docker/metadata-action does). */
      tag: string;
      /** Where the version came from, for the log. */
      from: string;
      /** The local image `@nx/docker` tagged with this version, when it did. */
      image?: { repo: string; ref: string };
    }
  | { kind: 'unchanged'; from: string }
  | { kind: 'none' };

/**
 * The version `nx release` resolved for a project, in this order: the release's own data
 * (`@nx/docker`'s image version, else the project's new version), then the image reference
 * `@nx/docker` wrote to its version file, then the project's package.json (what
 * `nx release version` wrote, when `nx release publish` runs on its own).
 */
export function resolveReleaseVersion(
  entry: ReleaseVersionDataEntry | undefined,
  workspaceRoot: string,
  projectRoot: string,
): ReleaseVersion {
  const dockerRef = readDockerVersionFile(workspaceRoot, projectRoot);
  const image = dockerRef ? splitRepoTag(dockerRef) : undefined;
  const imageOf = (version: string) =>
    image?.tag === version && dockerRef ? { image: { repo: image.repo, ref: dockerRef } } : {};

  if (entry) {
    const version = entry.dockerVersion ?? entry.newVersion;
    if (!version) return { kind: 'unchanged', from: 'nx release' };
    return { kind: 'version', version, tag: asDockerTag(version), from: 'nx release', ...imageOf(version) };
  }
  if (image?.tag) {
    return {
      kind: 'version',
      version: image.tag,
      tag: image.tag,
      from: dockerVersionFileLabel(projectRoot),
      ...imageOf(image.tag),
    };
  }
  const version = readJsonObject(join(workspaceRoot, projectRoot, 'package.json'))?.version;
  if (typeof version === 'string' && version) {
    return { kind: 'version', version, tag: asDockerTag(version), from: `${join(projectRoot, 'package.json')}` };
  }
  return { kind: 'none' };
}

export function dockerVersionFileLabel(projectRoot: string): string {
  return join('tmp', projectRoot, '.docker-version');
}

function asDockerTag(version: string): string {
  return version.replace(/\+/g, '-');
}

function readDockerVersionFile(workspaceRoot: string, projectRoot: string): string | undefined {
  const file = dockerVersionFile(workspaceRoot, projectRoot);
  if (!existsSync(file)) return undefined;
  return readFileSync(file, 'utf8').trim() || undefined;
}
