import { readFileSync } from 'node:fs';
import { CI_TAG_CONTEXT_SOURCES, type CiTagContextSource, type TextFileReader } from './ci-tag-context';
import { createGitRunner, readGitTagContext, type GitRunner } from './git-tag-context';
import type { TagContext } from './tag-context';

export interface ResolveTagContextOptions {
  /** The environment to read CI variables from (the caller passes `process.env`). */
  env: NodeJS.ProcessEnv;
  /** The repository directory (the workspace or project root). */
  cwd: string;
  git?: GitRunner;
  readFile?: TextFileReader;
  now?: Date;
  sources?: readonly CiTagContextSource[];
}

/**
 * The context for tag rules: CI variables when a known CI is running (GitHub Actions, GitLab CI,
 * `DOCKPUSH_GIT_REF`), with what they lack (SHA, default branch, commit date) from local git;
 * local git alone otherwise. Outside a repository, with no CI variables, the context is detached
 * with no SHA: rules that need one say so when they render nothing.
 */
export async function resolveTagContext(options: ResolveTagContextOptions): Promise<TagContext> {
  const now = options.now ?? new Date();
  const git = options.git ?? createGitRunner(options.env);
  const readFile = options.readFile ?? readTextFile;
  let ci: TagContext | undefined;
  for (const source of options.sources ?? CI_TAG_CONTEXT_SOURCES) {
    ci = source(options.env, readFile, now);
    if (ci) break;
  }
  const local = await readGitTagContext(options.cwd, git, now);
  if (!ci) return local ?? { event: 'detached', date: now, source: 'none (no CI variables, not a git repository)' };
  return {
    ...ci,
    sha: ci.sha ?? local?.sha,
    defaultBranch: ci.defaultBranch ?? local?.defaultBranch,
    commitDate: ci.commitDate ?? local?.commitDate,
  };
}

function readTextFile(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}
