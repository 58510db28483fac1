import { ArgumentsError } from '../errors';
import { formatDate } from './date-format';
import { isSingleExpression, renderExpressions, type ExpressionHelper } from './expressions';
import type { Flavor } from './flavor';
import { parseSemVer } from './semver';
import { describeRef, type TagContext } from './tag-context';
import type { TagRule } from './tag-rule';
import { describeInvalidTag, isValidTag, sanitizeBranch, sanitizeTag } from './tag-sanitizer';

/** One tag to push, and the rule that produced it (for the dry-run plan). */
export interface RenderedTag {
  tag: string;
  /** The rule as written, or `flavor latest=…` for the `latest` tag. */
  rule: string;
  /** Where the rule came from, e.g. `tagRules[1]` or `flavor`. */
  path: string;
}

/** A rule that produced no tag, and why. */
export interface SkippedRule {
  rule: string;
  path: string;
  reason: string;
}

export interface TagRulesResult {
  /** In metadata-action's order: by rule priority, then `latest`; no duplicates. */
  tags: RenderedTag[];
  skipped: SkippedRule[];
}

export interface RenderTagRulesOptions {
  /** Length of a short SHA (`type=sha`, `{{sha}}`); metadata-action's default is 7. */
  shortShaLength?: number;
  /**
   * The version `type=semver` and `type=match` rules without `value=` render from, in place of
   * the git tag at HEAD: a release tool's resolved version, known before (or without) its tag.
   */
  semver?: string;
}

type Outcome = { value: string; autoLatest: boolean } | { skip: string };

/**
 * Renders parsed rules (already in priority order, see `parseTagRules`) against a context, with
 * metadata-action's semantics: each enabled rule renders at most one tag; flavor prefix/suffix
 * apply unless the rule has its own; the first rule that renders decides `latest` (with
 * `latest=auto`: yes for a semver or match rule on a release, or `type=ref,event=tag`; never for
 * a pre-release). A rendered tag that is not a valid Docker tag is an error naming its rule.
 */
export function renderTagRules(
  rules: readonly TagRule[],
  flavor: Flavor,
  context: TagContext,
  options: RenderTagRulesOptions = {},
): TagRulesResult {
  const shortSha = (sha: string): string => sha.slice(0, options.shortShaLength ?? 7);
  const globals = globalHelpers(context, shortSha);
  const tags: RenderedTag[] = [];
  const skipped: SkippedRule[] = [];
  let latest: { add: boolean; decidedBy: TagRule } | undefined;

  for (const rule of rules) {
    const render = (template: string, helpers = globals): string => {
      try {
        return renderExpressions(template, helpers);
      } catch (error) {
        throw ruleError(rule, (error as Error).message);
      }
    };
    const enabled = render(rule.enable);
    if (enabled !== 'true' && enabled !== 'false') {
      throw ruleError(rule, `enable=${rule.enable} renders "${enabled}"; it must render true or false`);
    }
    if (enabled === 'false') {
      skipped.push(skip(rule, disabledReason(rule, context)));
      continue;
    }

    const outcome = renderRule(rule, context, render, shortSha, options.semver);
    if ('skip' in outcome) {
      skipped.push(skip(rule, outcome.skip));
      continue;
    }
    const prefix = rule.prefix !== undefined ? render(rule.prefix) : render(flavor.prefix);
    const suffix = rule.suffix !== undefined ? render(rule.suffix) : render(flavor.suffix);
    const raw = `${prefix}${outcome.value}${suffix}`;
    if (raw.length === 0) {
      skipped.push(skip(rule, 'it renders an empty tag'));
      continue;
    }
    const tag = checkedTag(sanitizeTag(raw), rule.text, rule.path);
    latest ??= { add: flavor.latest === 'auto' ? outcome.autoLatest : flavor.latest === 'true', decidedBy: rule };
    const earlier = tags.find((t) => t.tag === tag);
    if (earlier) {
      skipped.push(skip(rule, `it renders ${tag}, which ${earlier.rule} already produced`));
      continue;
    }
    tags.push({ tag, rule: rule.text, path: rule.path });
  }

  if (latest?.add) {
    const prefix = flavor.prefixLatest ? renderFlavor(flavor.prefix, globals) : '';
    const suffix = flavor.suffixLatest ? renderFlavor(flavor.suffix, globals) : '';
    const label = `flavor latest=${flavor.latest}`;
    const tag = checkedTag(sanitizeTag(`${prefix}latest${suffix}`), label, 'flavor');
    if (!tags.some((t) => t.tag === tag)) {
      tags.push({
        tag,
        rule: flavor.latest === 'auto' ? `${label} (${latest.decidedBy.text} renders a release)` : label,
        path: 'flavor',
      });
    }
  }
  return { tags, skipped };
}

function renderRule(
  rule: TagRule,
  context: TagContext,
  render: (template: string, helpers?: Record<string, ExpressionHelper>) => string,
  shortSha: (sha: string) => string,
  semverInput: string | undefined,
): Outcome {
  const where = describeRef(context);
  const tagged = semverInput ?? context.tag;
  switch (rule.type) {
    case 'schedule':
      if (context.event !== 'schedule') return { skip: `this is not a scheduled run (${where})` };
      return { value: render(rule.pattern, dateHelpers(context)), autoLatest: false };

    case 'semver': {
      if (tagged === undefined && !rule.value) {
        return { skip: `the build is for ${where}, not a git tag, and the rule has no value=` };
      }
      let version = rule.value ? render(rule.value) : (tagged as string);
      if (rule.match) {
        // As metadata-action: the first group (or the whole match); no match keeps the value.
        const m = new RegExp(rule.match).exec(version);
        if (m) version = m[1] ?? m[0];
      }
      version = version.replace(/\//g, '-');
      const semver = parseSemVer(version);
      if (!semver) return { skip: `${version} is not a semver version (such as v1.2.3 or 1.2.3-rc.1)` };
      const helpers: Record<string, ExpressionHelper> = {
        raw: () => semver.raw,
        version: () => semver.version,
        major: () => String(semver.major),
        minor: () => String(semver.minor),
        patch: () => String(semver.patch),
      };
      if (semver.prerelease.length > 0) {
        // Pre-releases only get {{version}} (or {{raw}} when that is the pattern), never a series tag.
        const pattern = isSingleExpression(rule.pattern, 'raw') ? rule.pattern : '{{version}}';
        return { value: render(pattern, helpers), autoLatest: false };
      }
      return { value: render(rule.pattern, helpers), autoLatest: true };
    }

    case 'match': {
      if (tagged === undefined && !rule.value) {
        return { skip: `the build is for ${where}, not a git tag, and the rule has no value=` };
      }
      const subject = rule.value ? render(rule.value) : (tagged as string);
      const m = subject.match(rule.pattern);
      if (!m) return { skip: `pattern=${rule.patternText} does not match ${subject}` };
      const group = m[rule.group];
      if (group === undefined) return { skip: `pattern=${rule.patternText} has no group ${rule.group} in ${subject}` };
      return { value: group, autoLatest: true };
    }

    case 'edge': {
      if (context.branch === undefined) return { skip: `the build is for ${where}, not a branch` };
      const target = rule.branch || context.defaultBranch;
      if (!target) return { skip: 'the default branch is unknown; name it on the rule, e.g. type=edge,branch=main' };
      if (target !== context.branch) return { skip: `branch ${context.branch} is not ${target}` };
      return { value: 'edge', autoLatest: false };
    }

    case 'ref':
      if (rule.event === 'branch') {
        if (context.branch === undefined) return { skip: `the build is for ${where}, not a branch` };
        return { value: sanitizeBranch(context.branch), autoLatest: false };
      }
      if (rule.event === 'tag') {
        if (context.tag === undefined) return { skip: `the build is for ${where}, not a git tag` };
        return { value: context.tag, autoLatest: true };
      }
      if (context.pr === undefined) return { skip: `the build is for ${where}, not a pull request` };
      return { value: String(context.pr), autoLatest: false };

    case 'raw':
      return { value: render(rule.value), autoLatest: false };

    case 'sha':
      if (!context.sha) return { skip: 'no commit SHA is known (not a git repository, and no CI variables give one)' };
      return { value: rule.format === 'short' ? shortSha(context.sha) : context.sha, autoLatest: false };
  }
}

/** The expressions metadata-action offers in value=, prefix=, suffix= and enable=. */
function globalHelpers(context: TagContext, shortSha: (sha: string) => string): Record<string, ExpressionHelper> {
  const isDefault = context.branch !== undefined && context.branch === context.defaultBranch;
  return {
    branch: () => (context.branch !== undefined ? sanitizeBranch(context.branch) : ''),
    tag: () => context.tag ?? '',
    sha: () => (context.sha ? shortSha(context.sha) : ''),
    base_ref: () => context.baseBranch ?? '',
    is_default_branch: () => String(isDefault),
    is_not_default_branch: () => String(!isDefault),
    ...dateHelpers(context),
  };
}

function dateHelpers(context: TagContext): Record<string, ExpressionHelper> {
  const at =
    (date: Date): ExpressionHelper =>
    (args, options) => {
      const unknown = Object.keys(options).filter((k) => k !== 'tz');
      if (unknown.length > 0) throw new Error(`unknown date option ${unknown[0]}=; the only option is tz=`);
      return formatDate(date, args[0] ?? 'YYYYMMDD', options.tz ?? 'UTC');
    };
  return { date: at(context.date), commit_date: at(context.commitDate ?? context.date) };
}

function disabledReason(rule: TagRule, context: TagContext): string {
  const because =
    /is_(not_)?default_branch/.test(rule.enable) && context.defaultBranch === undefined
      ? ' (the default branch is unknown, so this is not taken to be the default branch)'
      : '';
  return rule.enable === 'false' ? 'it is disabled (enable=false)' : `enable=${rule.enable} renders false${because}`;
}

function renderFlavor(template: string, helpers: Record<string, ExpressionHelper>): string {
  try {
    return renderExpressions(template, helpers);
  } catch (error) {
    throw new ArgumentsError([{ path: 'flavor', message: (error as Error).message }]);
  }
}

function checkedTag(tag: string, rule: string, path: string): string {
  if (isValidTag(tag)) return tag;
  throw new ArgumentsError([
    {
      path,
      message: `${rule} renders "${tag}", which is not a valid Docker tag: ${describeInvalidTag(tag)}. Change the rule's value, prefix or suffix.`,
    },
  ]);
}

function ruleError(rule: TagRule, message: string): ArgumentsError {
  return new ArgumentsError([{ path: rule.path, message: `${rule.text}: ${message}` }]);
}

function skip(rule: TagRule, reason: string): SkippedRule {
  return { rule: rule.text, path: rule.path, reason };
}
