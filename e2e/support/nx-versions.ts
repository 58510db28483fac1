import { readFileSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from './env';

/**
 * The Nx releases the Nx e2e runs against: the oldest and the newest major that
 * @dockpush/nx supports. Its `@nx/devkit` peer range is exactly these majors and those
 * between, so widening the range means adding the release that proves it here.
 */
export const supportedNxReleases = [
  { major: 22, version: '22.7.12' },
  { major: 24, version: '24.0.0' },
] as const;

/** The peer range @dockpush/nx must declare for the releases above. */
export function expectedDevkitPeerRange(): string {
  const majors = supportedNxReleases.map((r) => r.major);
  return `>=${Math.min(...majors)}.0.0 <${Math.max(...majors) + 1}.0.0`;
}

/** The `@nx/devkit` peer range @dockpush/nx declares. */
export function declaredDevkitPeerRange(): string | undefined {
  const manifest = JSON.parse(readFileSync(path.join(repoRoot, 'packages', 'nx', 'package.json'), 'utf8')) as {
    peerDependencies?: Record<string, string>;
  };
  return manifest.peerDependencies?.['@nx/devkit'];
}

/**
 * The release of `@nx/docker` (and of the nx it goes with) the zero-config e2e installs:
 * the newest the npm registry serves (no 24.x is published), inside the peer range above.
 */
export const nxDockerRelease = '23.2.1';
