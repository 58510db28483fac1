import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { UsageError } from './usage-error';

/** The push arguments found in a `--config` file, and where in it they were. */
export interface PushConfig {
  /** The file as given on the command line. */
  file: string;
  /** Where the arguments sit in the file: '' for the whole file, else e.g. `args` or `pre_deploy[1].args`. */
  location: string;
  /** The arguments, with `${env NAME}` lookups resolved. */
  args: Record<string, unknown>;
  /** Lookups in the file dockpush could not resolve, by field path in `args` (e.g. `ecr_repo.repo_name`). */
  unresolved: LookupIssue[];
}

/** A lookup left unresolved in a field of the file. */
export interface LookupIssue {
  path: string;
  message: string;
}

/** The hook lists of a Runway CFNgin config (`pre_build`/`post_build` are their older names). */
const HOOK_LISTS = ['pre_deploy', 'post_deploy', 'pre_destroy', 'post_destroy', 'pre_build', 'post_build'];
const PUSH_HOOK_PATH = 'runway.cfngin.hooks.docker.image.push';
const isPushHookPath = (path: unknown) => typeof path === 'string' && /(^|\.)docker\.image\.push$/.test(path);

/**
 * Reads a JSON or YAML `--config` file. It may hold the argument model itself (camelCase or
 * Runway's snake_case), a Runway hook entry (`{ path, args }`), a list of hook entries, or a
 * CFNgin config with `pre_deploy`/`post_deploy` lists; in the last two, exactly one
 * `docker.image.push` hook must be there. Runway's `${env NAME}` lookups are resolved, and
 * the credentials in `auth` are registered for redaction as soon as they are known.
 */
export async function loadPushConfig(file: string, env: NodeJS.ProcessEnv = process.env): Promise<PushConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : String(error);
    throw new UsageError([{ where: '--config', message: `cannot read "${file}": ${why}` }], { cause: error });
  }
  const found = extractPushArgs(parseConfigText(text, file), file);
  const { value, unresolved } = resolveLookups(found.args, env);
  const args = value as Record<string, unknown>;
  registerAuthSecrets(args.auth);
  return { file, location: found.location, args, unresolved };
}

/**
 * JSON for `.json` files, YAML (a superset of JSON) for the rest. A syntax error says where
 * and what kind, and never quotes the file: it may hold a password.
 */
export function parseConfigText(text: string, file: string): unknown {
  if (extname(file).toLowerCase() === '.json') {
    const { parseJsonText, JsonTextError } = require('@dockpush/core') as typeof import('@dockpush/core');
    try {
      return parseJsonText(text, { rejectDuplicateKeys: true });
    } catch (error) {
      if (!(error instanceof JsonTextError)) throw error;
      const { duplicate, line, column } = error;
      throw new UsageError([
        duplicate
          ? {
              where: duplicate.path ? `${file}: ${duplicate.path}` : file,
              message: `gives the key "${duplicate.key}" twice (line ${line}, column ${column}); keep only one`,
            }
          : { where: file, message: `not valid JSON: ${error.message}` },
      ]);
    }
  }
  // yaml is loaded only here, so that a push without --config does not pay for it.
  const { parse, YAMLError } = require('yaml') as typeof import('yaml');
  try {
    return parse(text) as unknown;
  } catch (error) {
    // The library's message may quote the file (a code frame, the offending token): only
    // its position and the kind of error are used.
    if (error instanceof YAMLError) {
      const at = error.linePos?.[0];
      const where = at ? ` at line ${at.line}, column ${at.col}` : '';
      // A key is named (keys are field names, not values), but only one that looks like a field name.
      const key =
        error.code === 'DUPLICATE_KEY' ? /^[\w.-]{1,64}(?=\s*:)/.exec(text.slice(error.pos[0]))?.[0] : undefined;
      const what = key
        ? `the key "${key}" is given twice in the same mapping; keep only one`
        : describeYamlError(error.code);
      throw new UsageError([{ where: file, message: `not valid YAML${where}: ${what}` }]);
    }
    const message = (error as Error).message.split('\n')[0] ?? String(error);
    throw new UsageError([{ where: file, message: `not valid YAML: ${message}` }]);
  }
}

/** What each kind of YAML error means, in words that quote nothing of the file. */
const YAML_ERRORS: Partial<Record<import('yaml').ErrorCode, string>> = {
  BAD_DQ_ESCAPE: 'an unknown escape in a double-quoted string; write a backslash as \\\\ or use single quotes',
  BAD_INDENT: 'the indentation is wrong',
  BAD_SCALAR_START: 'a plain value starts with a reserved character; quote the value',
  BLOCK_AS_IMPLICIT_KEY: 'a block value is used as a key',
  BLOCK_IN_FLOW: 'a block value inside [ ] or { }',
  DUPLICATE_KEY: 'a key is given twice in the same mapping; keep only one',
  MISSING_CHAR: 'a character is missing (a closing quote or bracket, a comma, or a space after ":")',
  MULTILINE_IMPLICIT_KEY: 'a key spans several lines (is a ":" missing?)',
  MULTIPLE_DOCS: 'the file holds several YAML documents; keep one',
  TAB_AS_INDENT: 'a tab is used to indent; indent with spaces',
  TAG_RESOLVE_FAILED: 'an unknown !tag',
  UNEXPECTED_TOKEN: 'unexpected text here (is a quote, a colon or a dash misplaced?)',
  RESOURCE_EXHAUSTION: 'too many aliases (a YAML alias bomb?)',
};

function describeYamlError(code: import('yaml').ErrorCode): string {
  return YAML_ERRORS[code] ?? `a YAML syntax error (${code})`;
}

/** Finds the push arguments in a parsed config file (see `loadPushConfig`). */
export function extractPushArgs(doc: unknown, file: string): { location: string; args: Record<string, unknown> } {
  if (doc === null || doc === undefined) {
    throw new UsageError([{ where: file, message: 'is empty; put the push arguments in it, e.g. repo and tags' }]);
  }
  if (Array.isArray(doc)) return onlyPushHook(file, findPushHooks(doc, ''), 'the list');
  if (!isPlainObject(doc)) {
    throw new UsageError([
      {
        where: file,
        message: `expected a mapping of push arguments (repo, tags, …) or a Runway hook entry, got ${typeof doc}`,
      },
    ]);
  }
  const lists = HOOK_LISTS.filter((key) => doc[key] !== undefined);
  if (lists.length > 0) {
    return onlyPushHook(
      file,
      lists.flatMap((key) => findPushHooks(doc[key], key)),
      lists.join(', '),
    );
  }
  if ('args' in doc || 'path' in doc) return hookEntryArgs(doc, '', file);
  return { location: '', args: doc };
}

interface FoundHook {
  location: string;
  entry: Record<string, unknown>;
}

function findPushHooks(list: unknown, location: string): FoundHook[] {
  const entries: [string, unknown][] = Array.isArray(list)
    ? list.map((entry, i) => [`${location}[${i}]`, entry])
    : isPlainObject(list)
      ? Object.entries(list).map(([key, entry]) => [location ? `${location}.${key}` : key, entry])
      : [];
  return entries.flatMap(([where, entry]) =>
    isPlainObject(entry) && isPushHookPath(entry.path) ? [{ location: where, entry }] : [],
  );
}

function onlyPushHook(
  file: string,
  hooks: FoundHook[],
  searched: string,
): { location: string; args: Record<string, unknown> } {
  const [hook, ...others] = hooks;
  if (!hook) {
    throw new UsageError([{ where: file, message: `has no ${PUSH_HOOK_PATH} hook in ${searched}` }]);
  }
  if (others.length > 0) {
    throw new UsageError([
      {
        where: file,
        message: `has ${hooks.length} ${PUSH_HOOK_PATH} hooks (${hooks.map((h) => h.location).join(', ')}); put the args of the one to run in a file of its own`,
      },
    ]);
  }
  return hookEntryArgs(hook.entry, `${hook.location}.`, file);
}

function hookEntryArgs(
  entry: Record<string, unknown>,
  location: string,
  file: string,
): { location: string; args: Record<string, unknown> } {
  if (entry.path !== undefined && !isPushHookPath(entry.path)) {
    throw new UsageError([
      { where: `${file}: ${location}path`, message: `is ${JSON.stringify(entry.path)}, not ${PUSH_HOOK_PATH}` },
    ]);
  }
  if (!isPlainObject(entry.args)) {
    throw new UsageError([
      {
        where: `${file}: ${location}args`,
        message:
          entry.args === undefined
            ? 'missing; the hook entry needs its args block'
            : 'expected a mapping of push arguments',
      },
    ]);
  }
  return { location: `${location}args`, args: entry.args };
}

const LOOKUP = /\$\{[^}]*\}?/g;
const ENV_LOOKUP = /^\$\{env\s+([A-Za-z_][A-Za-z0-9_]*)\s*\}$/;

/**
 * Resolves Runway's `${env NAME}` lookups in the text the user wrote, in one pass: a value
 * that came from a variable is never read for lookups again (a password may hold `${`).
 * Lookups dockpush cannot resolve (`${cfn …}`, `${var …}`, an unset `${env …}`) are listed by
 * path. Values under `auth` are never quoted, not even in part.
 */
export function resolveLookups(value: unknown, env: NodeJS.ProcessEnv): { value: unknown; unresolved: LookupIssue[] } {
  const unresolved: LookupIssue[] = [];
  const walk = (v: unknown, path: string): unknown => {
    if (typeof v === 'string') {
      return v.replace(LOOKUP, (lookup) => {
        const name = ENV_LOOKUP.exec(lookup)?.[1];
        const found = name === undefined ? undefined : env[name];
        if (found !== undefined) return found;
        if (!unresolved.some((u) => u.path === path))
          unresolved.push({ path, message: lookupMessage(lookup, name, path) });
        return lookup;
      });
    }
    if (Array.isArray(v)) return v.map((item, i) => walk(item, path ? `${path}.${i}` : `${i}`));
    if (isPlainObject(v)) {
      return Object.fromEntries(Object.entries(v).map(([k, item]) => [k, walk(item, path ? `${path}.${k}` : k)]));
    }
    return v;
  };
  return { value: walk(value, ''), unresolved };
}

function lookupMessage(lookup: string, envName: string | undefined, path: string): string {
  if (envName !== undefined) return `holds \${env ${envName}}, but ${envName} is not set`;
  if (path === 'auth' || path.startsWith('auth.')) {
    return (
      'holds a Runway lookup dockpush cannot resolve (it resolves only ${env NAME}); ' +
      'put the value in an environment variable and write ${env NAME}, or give the password with --password-stdin'
    );
  }
  return `holds the Runway lookup ${lookup}, which dockpush cannot resolve; write its value instead`;
}

/** The credentials a config file gives are secrets from the moment they are read. */
function registerAuthSecrets(auth: unknown): void {
  if (!isPlainObject(auth)) return;
  const { registerSecret } = require('@dockpush/core') as typeof import('@dockpush/core');
  const text = (v: unknown) => (typeof v === 'string' ? v : undefined);
  registerSecret(text(auth.password), text(auth.username));
  registerSecret(text(auth.identityToken));
  registerSecret(text(auth.identity_token));
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
