/** One thing wrong on the command line or in the config file: where, and what. */
export interface UsageIssue {
  /** A flag (`--tag`), or a field of the config file (`push.yml: ecr_repo.repo_name`); empty for the whole call. */
  where: string;
  message: string;
}

/**
 * The command line or the config file is wrong (exit status 2). Kept apart from core's
 * `ArgumentsError` so that `--help`, `--version` and flag parsing do not load core.
 */
export class UsageError extends Error {
  readonly code = 'USAGE';
  readonly issues: UsageIssue[];

  constructor(issues: UsageIssue[] | string, options?: { cause?: unknown }) {
    const list = typeof issues === 'string' ? [{ where: '', message: issues }] : issues;
    super(list.map(formatUsageIssue).join('\n'), options);
    this.name = 'UsageError';
    this.issues = list;
  }
}

export function formatUsageIssue(issue: UsageIssue): string {
  return issue.where ? `${issue.where}: ${issue.message}` : issue.message;
}
