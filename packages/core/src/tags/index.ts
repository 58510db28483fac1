export { parseTagRule, parseTagRules, DEFAULT_PRIORITIES, TAG_RULE_TYPES } from './tag-rule';
export type { TagRule, TagRuleType } from './tag-rule';
export { parseFlavor, DEFAULT_FLAVOR } from './flavor';
export type { Flavor } from './flavor';
export type { TagContext, TagEvent } from './tag-context';
export { resolveTagContext } from './resolve-tag-context';
export type { ResolveTagContextOptions } from './resolve-tag-context';
export { createGitRunner } from './git-tag-context';
export type { GitRunner } from './git-tag-context';
export { renderTagRules } from './render-tag-rules';
export type { RenderedTag, SkippedRule, TagRulesResult, RenderTagRulesOptions } from './render-tag-rules';
export {
  renderTagPlaceholders,
  placeholderValuesFromContext,
  hasTagPlaceholders,
  TAG_PLACEHOLDERS,
} from './tag-placeholders';
export type { TagPlaceholderValues } from './tag-placeholders';
