import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createScratchProject, type WorkspacePackage } from './packages';

/** How the Nx e2e suites' scratch workspaces differ. */
export interface NxWorkspaceOptions {
  /** The nx release to install; every package of `nxPackages` comes at the same release. */
  nxVersion: string;
  /** Nx packages beside nx, e.g. `['@nx/devkit']` (what `nx add` brings) or `['@nx/docker']`. */
  nxPackages: string[];
  /** @dockpush packages to install: from their tarballs, or by name from `npmRegistry`. */
  packages: WorkspacePackage[];
  /** An npm registry serving the @dockpush packages (`sharedNpmRegistry()`). */
  npmRegistry?: string;
  /** Fields of nx.json beside the two that keep Nx Cloud and analytics out. */
  nxJson?: Record<string, unknown>;
  /** Files to write, relative to the workspace. */
  files?: Record<string, string>;
  /** A git repository with the files in one commit (node_modules, dist, tmp and .nx ignored). */
  git?: boolean;
  /**
   * The user's HOME (`'user'`), so that npm finds its cache when a command installs
   * packages (`nx add`), or a fresh empty one (`'empty'`, the default).
   */
  home?: 'empty' | 'user';
  /** Deadline of each command, in ms (default 2 min). */
  timeout?: number;
}

export interface NxWorkspaceRun {
  /** The command line, for messages. */
  command: string;
  status: number | null;
  stdout: string;
  stderr: string;
  /** stdout, then stderr. */
  output: string;
}

export interface NxWorkspace {
  dir: string;
  /** `npx nx …` in the workspace. */
  nx(args: string[], extraEnv?: Record<string, string>): NxWorkspaceRun;
  /** `git …` in the workspace, as the e2e identity; throws when git fails. */
  git(...args: string[]): void;
}

/** The identity of the workspace's commits, `nx release`'s included. */
const gitIdentity = {
  GIT_AUTHOR_NAME: 'e2e',
  GIT_AUTHOR_EMAIL: 'e2e@example.com',
  GIT_COMMITTER_NAME: 'e2e',
  GIT_COMMITTER_EMAIL: 'e2e@example.com',
};

/**
 * A scratch Nx workspace as a user has one, under the scratch root (`name` starts its folder's
 * name): a package.json with nx and the given Nx packages of its release, an nx.json that never
 * talks to Nx Cloud, the @dockpush packages installed from their tarballs or from the run's npm
 * registry, and optionally a git repository with one commit. Its `nx` commands run without
 * daemon, cloud, TUI, colours or the developer's Docker login.
 */
export function createNxWorkspace(name: string, options: NxWorkspaceOptions): NxWorkspace {
  const home = mkdtempSync(path.join(tmpdir(), `dockpush-e2e-${name}-home-`));
  const nxPackages = Object.fromEntries(options.nxPackages.map((p) => [p, options.nxVersion]));
  const dir = createScratchProject(name, {
    packages: options.packages,
    ...(options.npmRegistry !== undefined ? { npmRegistry: options.npmRegistry } : {}),
    dependencies: { nx: options.nxVersion, ...nxPackages },
    files: {
      ...(options.git ? { '.gitignore': 'node_modules\ndist\ntmp\n.nx\n' } : {}),
      'nx.json': JSON.stringify({ neverConnectToCloud: true, analytics: false, ...options.nxJson }, null, 2),
      ...options.files,
    },
  });

  const git = (...args: string[]) =>
    void execFileSync('git', args, { cwd: dir, stdio: 'ignore', env: { ...process.env, ...gitIdentity } });

  function nx(args: string[], extraEnv: Record<string, string> = {}): NxWorkspaceRun {
    const childEnv: NodeJS.ProcessEnv = { ...process.env };
    // The outer run's Nx and npm settings (jest may run under `nx` or `npm run`) are not the user's.
    for (const key of Object.keys(childEnv)) {
      if (key.startsWith('NX_') || key.startsWith('npm_config_')) delete childEnv[key];
    }
    const result = spawnSync('npx', ['nx', ...args], {
      cwd: dir,
      encoding: 'utf8',
      timeout: options.timeout ?? 120_000,
      env: {
        ...childEnv,
        NX_DAEMON: 'false',
        NX_NO_CLOUD: 'true',
        NX_TUI: 'false',
        NO_COLOR: '1',
        CI: 'true',
        ...(options.home === 'user' ? {} : { HOME: home }),
        DOCKER_CONFIG: home,
        ...gitIdentity,
        ...extraEnv,
      },
    });
    const run = {
      command: `nx ${args.join(' ')}`,
      status: result.status,
      stdout: result.stdout,
      stderr: result.stderr,
    };
    return { ...run, output: `${run.stdout}\n${run.stderr}` };
  }

  if (options.git) {
    git('init', '--quiet', '--initial-branch=main');
    git('add', '.');
    git('commit', '--quiet', '-m', 'initial');
  }
  return { dir, nx, git };
}

/** Throws with the command's output unless it exited with 0; returns the run. */
export function expectSuccess(run: NxWorkspaceRun): NxWorkspaceRun {
  if (run.status !== 0) throw new Error(`${run.command} exited with ${run.status}:\n${run.output}`);
  return run;
}
