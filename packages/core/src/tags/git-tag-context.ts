import { debugLog } from '../debug-log';
import type { TagContext } from './tag-context';

const debug = debugLog('dockpush:tags');

/** Runs `git <args>` in a directory: its trimmed stdout, or `undefined` when git fails or is absent. */
export type GitRunner = (args: string[], cwd: string) => Promise<string | undefined>;

const GIT_TIMEOUT_MS = 10_000;

/** The real git, killed after `timeoutMs` so a hung repository cannot stall a push. */
export function createGitRunner(env: NodeJS.ProcessEnv, timeoutMs = GIT_TIMEOUT_MS): GitRunner {
  return (args, cwd) =>
    new Promise((resolve) => {
      // Loaded here: only tag rules that need git facts run git.
      (require('node:child_process') as typeof import('node:child_process')).execFile(
        'git',
        args,
        { cwd, env, timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 1024 * 1024 },
        (error, stdout, stderr) => {
          if (error) {
            debug('git %s failed in %s: %s', args.join(' '), cwd, String(stderr).trim() || error.message);
            return resolve(undefined);
          }
          resolve(String(stdout).trim());
        },
      );
    });
}

/**
 * The context from the local repository: a tag pointing at HEAD makes a tag build (the highest
 * version when several do), else the checked-out branch; detached otherwise. The default branch
 * is `origin/HEAD`, else `init.defaultBranch`.
 */
export async function readGitTagContext(cwd: string, git: GitRunner, now: Date): Promise<TagContext | undefined> {
  const [sha, tags, branch, originHead, initDefault, commitDate] = await Promise.all([
    git(['rev-parse', '--verify', '-q', 'HEAD'], cwd),
    git(['tag', '--points-at', 'HEAD', '--sort=-version:refname'], cwd),
    git(['symbolic-ref', '--short', '-q', 'HEAD'], cwd),
    git(['symbolic-ref', '--short', '-q', 'refs/remotes/origin/HEAD'], cwd),
    git(['config', '--get', 'init.defaultBranch'], cwd),
    git(['log', '-1', '--format=%cI', 'HEAD'], cwd),
  ]);
  if (!sha) return undefined;
  const tag = tags?.split('\n')[0]?.trim() || undefined;
  const context: TagContext = {
    event: tag ? 'tag' : branch ? 'branch' : 'detached',
    sha,
    defaultBranch: originHead?.replace(/^origin\//, '') || initDefault || undefined,
    commitDate: commitDate ? new Date(commitDate) : undefined,
    date: now,
    source: 'git',
  };
  if (tag) context.tag = tag;
  else if (branch) context.branch = branch;
  return context;
}
