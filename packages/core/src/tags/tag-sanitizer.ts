import { isValidTag } from '../args/reference';

/** The longest tag a registry accepts. */
export const MAX_TAG_LENGTH = 128;

/**
 * Replaces every run of characters a Docker tag cannot hold with `-`, as metadata-action does
 * (`releases/v1` → `releases-v1`). The result may still be invalid (a leading `-` or `.`, too
 * long); rendering checks it and says which rule produced it.
 */
export function sanitizeTag(value: string): string {
  return value.replace(/[^a-zA-Z0-9._-]+/g, '-');
}

/**
 * A branch name made into a valid tag: invalid characters replaced, leading separators dropped
 * (`-` and `.` cannot start a tag) and cut to 128 characters, so any branch yields a usable tag.
 */
export function sanitizeBranch(branch: string): string {
  return sanitizeTag(branch)
    .replace(/^[.-]+/, '')
    .slice(0, MAX_TAG_LENGTH);
}

export { isValidTag };

/** Why `tag` is not a valid Docker tag, for error messages. */
export function describeInvalidTag(tag: string): string {
  if (tag.length === 0) return 'it is empty';
  if (tag.length > MAX_TAG_LENGTH) return `it has ${tag.length} characters, more than ${MAX_TAG_LENGTH}`;
  if (/^[.-]/.test(tag)) return 'a tag cannot start with "." or "-"';
  return 'a tag holds only letters, digits, "_", "." and "-"';
}
