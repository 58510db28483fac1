import { ArgumentsError } from '../errors';
import { formatDate } from './date-format';
import type { TagContext } from './tag-context';
import { describeInvalidTag, isValidTag, sanitizeBranch } from './tag-sanitizer';

/** The values plain tags may use as `{name}`; a missing one is an error if a tag uses it. */
export interface TagPlaceholderValues {
  /** The project's version, e.g. from its package.json. */
  version?: string;
  /** The full commit SHA. */
  sha?: string;
  branch?: string;
  /** Now; `{date}` is its UTC day, YYYYMMDD. */
  date: Date;
  /** The Nx project being pushed. */
  projectName?: string;
}

export const TAG_PLACEHOLDERS = ['version', 'sha', 'shortSha', 'branch', 'date', 'projectName'] as const;

const WHY_MISSING: Record<(typeof TAG_PLACEHOLDERS)[number], string> = {
  version: 'no version is known; set "version" in the project\'s package.json',
  sha: 'no commit SHA is known; run in a git repository or a CI that sets one',
  shortSha: 'no commit SHA is known; run in a git repository or a CI that sets one',
  branch: 'the build is not on a branch (a tag, a pull request or a detached HEAD)',
  date: 'no date was given',
  projectName: 'no project name is known; {projectName} is available under Nx',
};

/** The placeholder values a tag context gives; the caller adds `version` and `projectName`. */
export function placeholderValuesFromContext(
  context: TagContext,
  extra: { version?: string; projectName?: string } = {},
): TagPlaceholderValues {
  return { sha: context.sha, branch: context.branch, date: context.date, ...extra };
}

/**
 * Fills `{version}`, `{sha}`, `{shortSha}`, `{branch}`, `{date}`, `{projectName}` in a plain tag
 * (`{projectName}-{shortSha}`). The branch is made tag-safe (`feature/x` → `feature-x`); the
 * result must be a valid tag. Errors name the field (`path`) and the placeholder.
 */
export function renderTagPlaceholders(template: string, values: TagPlaceholderValues, path = 'tags[0]'): string {
  const fail = (message: string): never => {
    throw new ArgumentsError([{ path, message: `"${template}": ${message}` }]);
  };
  const filled = template.replace(/\{([^{}]*)\}/g, (_whole, name: string) => {
    if (!(TAG_PLACEHOLDERS as readonly string[]).includes(name)) {
      return fail(`{${name}} is not a known placeholder; use ${TAG_PLACEHOLDERS.map((p) => `{${p}}`).join(', ')}`);
    }
    const value = placeholderValue(name as (typeof TAG_PLACEHOLDERS)[number], values);
    if (!value) return fail(`{${name}} has no value: ${WHY_MISSING[name as (typeof TAG_PLACEHOLDERS)[number]]}`);
    return value;
  });
  if (!isValidTag(filled))
    fail(`it renders "${filled}", which is not a valid Docker tag: ${describeInvalidTag(filled)}`);
  return filled;
}

/** True when a tag holds a placeholder, so callers know a context is needed. */
export function hasTagPlaceholders(template: string): boolean {
  return /\{[^{}]*\}/.test(template);
}

function placeholderValue(name: (typeof TAG_PLACEHOLDERS)[number], values: TagPlaceholderValues): string | undefined {
  switch (name) {
    case 'version':
      // A build suffix (1.2.3+build.4) has a character a tag cannot hold.
      return values.version?.replace(/\+/g, '-');
    case 'sha':
      return values.sha;
    case 'shortSha':
      return values.sha?.slice(0, 7);
    case 'branch':
      return values.branch !== undefined ? sanitizeBranch(values.branch) : undefined;
    case 'date':
      return formatDate(values.date, 'YYYYMMDD');
    case 'projectName':
      return values.projectName;
  }
}
