import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { e2eRunId, e2eTmpDir, repoRoot } from './env';

/**
 * The packages as users get them: `npm pack` tarballs, installed into scratch projects
 * with npm. Packed once per run by the e2e global setup.
 */
export const packsDir = path.join(e2eTmpDir, `packs-${e2eRunId}`);
/**
 * Outside the repository, so that a scratch project resolves modules only from its own
 * node_modules, as a user's would: a dependency missing from a package.json fails here.
 */
export const scratchRoot = path.join(os.tmpdir(), 'dockpush-e2e-scratch');

export const workspacePackages = {
  '@dockpush/core': 'packages/core',
  dockpush: 'packages/dockpush',
  '@dockpush/nx': 'packages/nx',
  '@dockpush/gulp': 'packages/gulp',
  '@dockpush/grunt': 'packages/grunt',
} as const;

export type WorkspacePackage = keyof typeof workspacePackages;

/** Packs every workspace package into `tmp/packs` (the packages must be built). */
export function packWorkspacePackages(): void {
  rmSync(packsDir, { recursive: true, force: true });
  mkdirSync(packsDir, { recursive: true });
  for (const [name, folder] of Object.entries(workspacePackages)) {
    if (!existsSync(path.join(repoRoot, folder, 'dist'))) {
      throw new Error(`${name} is not built (${folder}/dist is missing): run npm run build before the e2e tests`);
    }
  }
  execFileSync(
    'npm',
    ['pack', '--silent', '--pack-destination', packsDir, ...Object.values(workspacePackages).map((f) => `./${f}`)],
    {
      cwd: repoRoot,
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
}

/** The version of a workspace package in the repository. */
export function workspaceVersion(name: WorkspacePackage): string {
  const manifest = path.join(repoRoot, workspacePackages[name], 'package.json');
  return (JSON.parse(readFileSync(manifest, 'utf8')) as { version: string }).version;
}

/** A package's entry in a scratch project's package-lock.json. */
export function lockEntry(
  dir: string,
  name: string,
): { version?: string; resolved?: string; link?: boolean; integrity?: string } | undefined {
  const lock = JSON.parse(readFileSync(path.join(dir, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, { version?: string; resolved?: string; link?: boolean; integrity?: string }>;
  };
  return lock.packages[`node_modules/${name}`];
}

/** The tarball of a workspace package. */
export function tarballOf(name: WorkspacePackage): string {
  const prefix = name.replace(/^@/, '').replace('/', '-') + '-';
  const file = readdirSync(packsDir).find((f) => f.startsWith(prefix) && /^\d/.test(f.slice(prefix.length)));
  if (!file) throw new Error(`no tarball of ${name} in ${packsDir}: the e2e global setup packs them`);
  return path.join(packsDir, file);
}

export interface ScratchProjectOptions {
  /** Workspace packages to install: from their tarballs (core is always added), or from `npmRegistry`. */
  packages: WorkspacePackage[];
  /**
   * An npm registry serving the workspace packages (`sharedNpmRegistry()`): they are then
   * installed by name and version range, as `npm install @dockpush/gulp` writes them, with
   * the `@dockpush` scope pointed at it in the project's .npmrc; every other package still
   * comes from the npm registry the machine uses. Only for scoped packages.
   */
  npmRegistry?: string;
  /** Registry packages, e.g. `{ gulp: '5.0.1' }`; installed from npm's cache when there. */
  dependencies?: Record<string, string>;
  /** Files to write, relative to the project. */
  files?: Record<string, string>;
}

/**
 * A fresh folder under `tmp/scratch` with a package.json, the given files, and
 * `npm install` run as a user would. Returns its path.
 */
export function createScratchProject(name: string, options: ScratchProjectOptions): string {
  mkdirSync(scratchRoot, { recursive: true });
  const dir = mkdtempSync(path.join(scratchRoot, `${name}-`));
  installScratchProject(dir, name, options);
  return dir;
}

/**
 * Like `createScratchProject`, but made once per jest run and shared by the test
 * files that ask for it by the same name (jest runs files one after another here).
 */
export function sharedScratchProject(name: string, options: ScratchProjectOptions): string {
  const dir = path.join(scratchRoot, `${name}-run-${e2eRunId}`);
  if (existsSync(path.join(dir, '.installed'))) return dir;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  installScratchProject(dir, name, options);
  writeFileSync(path.join(dir, '.installed'), '');
  return dir;
}

function installScratchProject(dir: string, name: string, options: ScratchProjectOptions): void {
  const dependencies: Record<string, string> = { ...options.dependencies };
  if (options.npmRegistry !== undefined) {
    for (const p of options.packages) {
      if (!p.startsWith('@dockpush/'))
        throw new Error(`${p} is not in the @dockpush scope: install it from its tarball`);
      dependencies[p] = `^${workspaceVersion(p)}`;
    }
    writeFileSync(path.join(dir, '.npmrc'), `@dockpush:registry=${options.npmRegistry}\n`);
  } else {
    for (const p of new Set<WorkspacePackage>(['@dockpush/core', ...options.packages])) {
      dependencies[p] = `file:${tarballOf(p)}`;
    }
  }
  writeFileSync(
    path.join(dir, 'package.json'),
    JSON.stringify({ name: `scratch-${name}`, version: '0.0.0', private: true, dependencies }, null, 2),
  );
  for (const [file, content] of Object.entries(options.files ?? {})) {
    mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    writeFileSync(path.join(dir, file), content);
  }
  execFileSync('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'], {
    cwd: dir,
    stdio: ['ignore', 'ignore', 'inherit'],
    timeout: 300_000,
  });
}
