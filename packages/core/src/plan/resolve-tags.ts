import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { formatDuration, timeoutMsOf, withDeadline, type WaitLimits } from '../deadline';
import type { PushArgs } from '../args/push-args';
import { ArgumentsError } from '../errors';
import type { TagContext } from '../tags/tag-context';
import { hasTagPlaceholders, placeholderValuesFromContext, renderTagPlaceholders } from '../tags/tag-placeholders';
import type { PushOptions } from '../push-options';

/** The tags of a push and, when rules or placeholders made them, what made each one. */
export interface ResolvedTags {
  tags: string[];
  /** Each tag and the rule (or plain tag template) that produced it; only with rules or placeholders. */
  tagSources?: Record<string, string>;
}

/**
 * The tags to push: plain tags (placeholders filled) then the tags the rules render, without
 * duplicates. The context (CI variables, else local git in `options.cwd`) is read only when a
 * rule or a placeholder needs it. `defaults` apply when neither tags nor rules are given.
 */
export async function resolveTags(
  args: PushArgs,
  options: PushOptions,
  defaults: () => string[],
  limits: WaitLimits = {},
): Promise<ResolvedTags> {
  const templated = args.tags.some(hasTagPlaceholders);
  if (args.tagRules.length === 0 && !templated) {
    return { tags: args.tags.length > 0 ? args.tags : defaults() };
  }
  // The rules' machinery (git, CI variables, semver, expressions) is loaded only when used.
  const { createGitRunner } = require('../tags/git-tag-context') as typeof import('../tags/git-tag-context');
  const { renderTagRules } = require('../tags/render-tag-rules') as typeof import('../tags/render-tag-rules');
  const { resolveTagContext } = require('../tags/resolve-tag-context') as typeof import('../tags/resolve-tag-context');
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const timeoutMs = timeoutMsOf(limits);
  // Each git call is killed at the deadline; this bounds the whole read the same way.
  const context: TagContext = await withDeadline(
    () => resolveTagContext({ env, cwd, git: createGitRunner(env, timeoutMs) }),
    timeoutMs + 1000,
    () =>
      new Error(
        `reading the git repository in ${cwd} for tag rules did not finish within ${formatDuration(timeoutMs)}; check the repository, or allow it longer with timeout (--timeout)`,
      ),
    limits.signal,
  );
  const version = options.tagValues?.version ?? (await readPackageVersion(cwd));
  const values = placeholderValuesFromContext(context, {
    ...(version !== undefined ? { version } : {}),
    ...(options.tagValues?.projectName !== undefined ? { projectName: options.tagValues.projectName } : {}),
  });

  const sources = new Map<string, string>();
  args.tags.forEach((template, i) => {
    const tag = renderTagPlaceholders(template, values, `tags[${i}]`);
    if (!sources.has(tag)) sources.set(tag, template);
  });
  const semver = options.tagValues?.semver;
  const rendered = renderTagRules(args.tagRules, args.flavor, context, semver !== undefined ? { semver } : {});
  for (const { tag, rule } of rendered.tags) {
    if (!sources.has(tag)) sources.set(tag, rule);
  }
  if (sources.size === 0) {
    throw new ArgumentsError(
      rendered.skipped.map((s) => ({
        path: s.path,
        message: `${JSON.stringify(s.rule)} rendered no tag: ${s.reason}; with no tag at all there is nothing to push (context: ${context.source}); add a rule that always renders, such as "type=sha", or a plain tag`,
      })),
    );
  }
  return { tags: [...sources.keys()], tagSources: Object.fromEntries(sources) };
}

/** `version` of the package.json in `dir`, if there is one. */
async function readPackageVersion(dir: string): Promise<string | undefined> {
  try {
    const parsed: unknown = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8'));
    const version = (parsed as { version?: unknown } | null)?.version;
    return typeof version === 'string' && version !== '' ? version : undefined;
  } catch {
    return undefined;
  }
}
