import { ArgumentsError } from '../errors';
import { splitCsvFields, splitKeyValue } from './csv-fields';

/** The rule types of docker/metadata-action that make sense outside GitHub Actions. */
export const TAG_RULE_TYPES = ['schedule', 'semver', 'match', 'edge', 'ref', 'raw', 'sha'] as const;
export type TagRuleType = (typeof TAG_RULE_TYPES)[number];

/** Higher renders first; the first rule that renders decides `latest=auto` (metadata-action's order). */
export const DEFAULT_PRIORITIES: Record<TagRuleType, number> = {
  schedule: 1000,
  semver: 900,
  match: 800,
  edge: 700,
  ref: 600,
  raw: 200,
  sha: 100,
};

interface TagRuleBase {
  /** The rule as written, for messages and the plan. */
  text: string;
  /** Where it came from, e.g. `tagRules[2]`. */
  path: string;
  priority: number;
  /** `true`, `false`, or an expression that renders to one of them (`{{is_default_branch}}`). */
  enable: string;
  /** A per-rule prefix or suffix replaces the flavor's; `undefined` means "use the flavor's". */
  prefix?: string;
  suffix?: string;
}

export type TagRule = TagRuleBase &
  (
    | { type: 'schedule'; pattern: string }
    | { type: 'semver'; pattern: string; value: string; match: string }
    | { type: 'match'; pattern: RegExp; patternText: string; group: number; value: string }
    | { type: 'edge'; branch: string }
    | { type: 'ref'; event: 'branch' | 'tag' | 'pr' }
    | { type: 'raw'; value: string }
    | { type: 'sha'; format: 'short' | 'long' }
  );

const COMMON_KEYS = ['type', 'enable', 'priority', 'prefix', 'suffix'];
const TYPE_KEYS: Record<TagRuleType, string[]> = {
  schedule: ['pattern'],
  semver: ['pattern', 'value', 'match'],
  match: ['pattern', 'group', 'value'],
  edge: ['branch'],
  ref: ['event'],
  raw: ['value'],
  sha: ['format'],
};

/** Parses rules and orders them by priority (highest first; equal priorities keep their order). */
export function parseTagRules(rules: readonly string[], field = 'tagRules'): TagRule[] {
  return rules
    .map((text, i) => parseTagRule(text, `${field}[${i}]`))
    .map((rule, i) => ({ rule, i }))
    .sort((a, b) => b.rule.priority - a.rule.priority || a.i - b.i)
    .map(({ rule }) => rule);
}

/**
 * Parses one rule in metadata-action's syntax: `type=semver,pattern={{version}}`. A bare field is
 * the value (`type=raw,foo` or just `foo`); a rule without `type=` is `type=raw`.
 */
export function parseTagRule(text: string, path = 'tagRules[0]'): TagRule {
  const fail = (message: string): never => {
    throw new ArgumentsError([{ path, message: `${JSON.stringify(text)}: ${message}` }]);
  };
  let fields: string[];
  try {
    fields = splitCsvFields(text);
  } catch (error) {
    return fail((error as Error).message);
  }
  if (fields.length === 0) fail('the rule is empty; write e.g. type=semver,pattern={{version}}');

  const attrs = new Map<string, string>();
  for (const field of fields) {
    const [key, value] = splitKeyValue(field);
    const name = key ?? 'value';
    if (attrs.has(name)) fail(`"${name}" is given twice; keep one`);
    attrs.set(name, value);
  }

  const typeText = attrs.get('type') ?? 'raw';
  if (typeText === 'pep440') fail('type=pep440 is not supported; use type=semver or type=match');
  if (!(TAG_RULE_TYPES as readonly string[]).includes(typeText)) {
    fail(`unknown type "${typeText}"; use one of ${TAG_RULE_TYPES.map((t) => `type=${t}`).join(', ')}`);
  }
  const type = typeText as TagRuleType;
  const allowed = [...COMMON_KEYS, ...TYPE_KEYS[type]];
  for (const key of attrs.keys()) {
    if (!allowed.includes(key)) {
      fail(`unknown key "${key}" for type=${type}; its keys are ${allowed.map((k) => `${k}=`).join(', ')}`);
    }
  }

  const priorityText = attrs.get('priority');
  if (priorityText !== undefined && !/^-?\d+$/.test(priorityText)) {
    fail(`priority=${priorityText} is not a whole number; write e.g. priority=500`);
  }
  const base: TagRuleBase = {
    text,
    path,
    priority: priorityText !== undefined ? Number(priorityText) : DEFAULT_PRIORITIES[type],
    enable: attrs.get('enable') ?? 'true',
    prefix: attrs.get('prefix'),
    suffix: attrs.get('suffix'),
  };

  switch (type) {
    case 'schedule':
      return { ...base, type, pattern: attrs.get('pattern') || 'nightly' };
    case 'semver': {
      const pattern = attrs.get('pattern');
      if (!pattern) fail('type=semver needs a pattern, e.g. pattern={{version}} or pattern={{major}}.{{minor}}');
      const match = attrs.get('match') ?? '';
      if (match) compileRegExp(match, 'match', fail);
      return { ...base, type, pattern: pattern as string, value: attrs.get('value') ?? '', match };
    }
    case 'match': {
      const patternText = attrs.get('pattern');
      if (!patternText) fail('type=match needs a pattern, e.g. pattern=v(.*),group=1');
      const groupText = attrs.get('group') ?? '0';
      if (!/^\d+$/.test(groupText)) fail(`group=${groupText} is not a group number; write e.g. group=1`);
      const literal = /^\/(.+)\/([a-z]*)$/.exec(patternText as string);
      const pattern = literal
        ? compileRegExp(literal[1] as string, 'pattern', fail, literal[2])
        : compileRegExp(patternText as string, 'pattern', fail);
      return {
        ...base,
        type,
        pattern,
        patternText: patternText as string,
        group: Number(groupText),
        value: attrs.get('value') ?? '',
      };
    }
    case 'edge':
      return { ...base, type, branch: attrs.get('branch') ?? '' };
    case 'ref': {
      const event = attrs.get('event');
      if (event !== 'branch' && event !== 'tag' && event !== 'pr') {
        fail(
          event === undefined
            ? 'type=ref needs an event: event=branch, event=tag or event=pr'
            : `event=${event} is not one of event=branch, event=tag, event=pr`,
        );
      }
      // metadata-action's default: a pull request is tagged pr-<number>.
      return { ...base, prefix: base.prefix ?? (event === 'pr' ? 'pr-' : undefined), type, event: event as 'pr' };
    }
    case 'raw': {
      const value = attrs.get('value');
      if (!value) fail('type=raw needs a value, e.g. type=raw,value=stable');
      return { ...base, type, value: value as string };
    }
    case 'sha': {
      const format = attrs.get('format') ?? 'short';
      if (format !== 'short' && format !== 'long') fail(`format=${format} is not one of format=short, format=long`);
      return { ...base, prefix: base.prefix ?? 'sha-', type, format: format as 'short' };
    }
  }
}

function compileRegExp(source: string, key: string, fail: (message: string) => never, flags?: string): RegExp {
  try {
    return new RegExp(source, flags);
  } catch (error) {
    return fail(`${key}=${source} is not a valid regular expression (${(error as Error).message})`);
  }
}
