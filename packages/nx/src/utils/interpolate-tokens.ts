/**
 * Nx's path and name tokens, as Nx resolves them in a target's options: `{workspaceRoot}`,
 * `{projectRoot}` and `{projectName}`. Nx already does this for options written in
 * project.json; the executor repeats it for what Nx leaves alone (command-line overrides
 * and defaults), and the plugin uses it for its patterns.
 */
export interface NxTokens {
  workspaceRoot: string;
  projectRoot: string;
  projectName: string;
}

export function interpolateTokens(value: string, tokens: NxTokens): string {
  return value
    .replace(/\{workspaceRoot\}/g, tokens.workspaceRoot)
    .replace(/\{projectRoot\}/g, tokens.projectRoot)
    .replace(/\{projectName\}/g, tokens.projectName);
}

/**
 * Interpolates every string inside `value` (objects and arrays included) except under
 * the keys in `skip`, which hold values that are never templates (credentials).
 */
export function interpolateTokensDeep<T>(value: T, tokens: NxTokens, skip: ReadonlySet<string> = new Set()): T {
  if (typeof value === 'string') return interpolateTokens(value, tokens) as T;
  if (Array.isArray(value)) return value.map((item: unknown) => interpolateTokensDeep(item, tokens, skip)) as T;
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [
        key,
        skip.has(key) ? item : interpolateTokensDeep(item, tokens, skip),
      ]),
    ) as T;
  }
  return value;
}
