import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { UsageError } from './usage-error';

/** The push arguments found in a `--config` file, and where in it they were. */
export interface PushConfig {
  /** The file as given on the command line. */
  file: string;
  /** Where the arguments sit in the file: '' for the whole file, else e.g. `args` or `pre_deploy[1].args`. */
  location: string;
  args: Record<string, unknown>;
}

/** The hook lists of a Runway CFNgin config (`pre_build`/`post_build` are their older names). */
const HOOK_LISTS = ['pre_deploy', 'post_deploy', 'pre_destroy', 'post_destroy', 'pre_build', 'post_build'];
const PUSH_HOOK_PATH = 'runway.cfngin.hooks.docker.image.push';
const isPushHookPath = (path: unknown) => typeof path === 'string' && /(^|\.)docker\.image\.push$/.test(path);

/**
 * Reads a JSON or YAML `--config` file. It may hold the argument model itself (camelCase or
 * Runway's snake_case), a Runway hook entry (`{ path, args }`), a list of hook entries, or a
 * CFNgin config with `pre_deploy`/`post_deploy` lists; in the last two, exactly one
 * `docker.image.push` hook must be there. Runway's `${env NAME}` lookups are resolved.
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
  return { file, location: found.location, args: resolveEnvLookups(found.args, env) as Record<string, unknown> };
}

/** JSON for `.json` files, YAML (a superset of JSON) for the rest. */
export function parseConfigText(text: string, file: string): unknown {
  if (extname(file).toLowerCase() === '.json') {
    try {
      return JSON.parse(text) as unknown;
    } catch (error) {
      throw new UsageError([{ where: file, message: `not valid JSON: ${(error as Error).message}` }], { cause: error });
    }
  }
  // yaml is loaded only here, so that a push without --config does not pay for it.
  const { parse } = require('yaml') as typeof import('yaml');
  try {
    return parse(text) as unknown;
  } catch (error) {
    const message = (error as Error).message.split('\n')[0] ?? String(error);
    throw new UsageError([{ where: file, message: `not valid YAML: ${message}` }], { cause: error });
  }
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

const ENV_LOOKUP = /\$\{env\s+([A-Za-z_][A-Za-z0-9_]*)\s*\}/g;

/** Replaces Runway's `${env NAME}` lookups with the variable's value; unset ones stay for `findUnresolvedLookups`. */
export function resolveEnvLookups(value: unknown, env: NodeJS.ProcessEnv): unknown {
  if (typeof value === 'string') {
    return value.replace(ENV_LOOKUP, (lookup, name: string) => env[name] ?? lookup);
  }
  if (Array.isArray(value)) return value.map((v) => resolveEnvLookups(v, env));
  if (isPlainObject(value)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolveEnvLookups(v, env)]));
  }
  return value;
}

/** Runway lookups (`${cfn …}`, `${var …}`, an unset `${env …}`) dockpush cannot resolve, by path. */
export function findUnresolvedLookups(value: unknown, path = ''): { path: string; lookup: string; message: string }[] {
  if (typeof value === 'string') {
    const lookup = /\$\{[^}]*\}?/.exec(value)?.[0];
    if (!lookup) return [];
    const env = /^\$\{env\s+([A-Za-z_][A-Za-z0-9_]*)/.exec(lookup);
    const message = env
      ? `holds ${lookup}, but ${env[1]} is not set`
      : `holds the Runway lookup ${lookup}, which dockpush cannot resolve; write its value instead`;
    return [{ path, lookup, message }];
  }
  if (Array.isArray(value)) return value.flatMap((v, i) => findUnresolvedLookups(v, `${path}.${i}`.replace(/^\./, '')));
  if (isPlainObject(value)) {
    return Object.entries(value).flatMap(([k, v]) => findUnresolvedLookups(v, path ? `${path}.${k}` : k));
  }
  return [];
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
