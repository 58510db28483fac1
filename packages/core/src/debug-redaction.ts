import { dirname } from 'node:path';
import { formatWithOptions, type InspectOptions } from 'node:util';
import { redact } from './redact';

/** The part of a `debug` module that decides where its lines go. */
interface DebugModule {
  log: (...args: unknown[]) => unknown;
  inspectOpts?: InspectOptions;
}

/**
 * Packages whose code dockpush runs and that log through `debug`, each resolved from the
 * one that depends on it. docker-modem logs every request it sends, with the engine's
 * `X-Registry-Auth` header, so `DEBUG='*'` would print the password in base64.
 */
const DEBUG_USERS = [['dockerode', 'docker-modem']];

const redacting = new WeakSet<object>();

/**
 * Makes dockpush's own `debug` write its lines redacted. `debug` reads `createDebug.log` each time
 * it prints, so replacing it covers loggers already made, and those made later. Idempotent.
 */
export function redactDebugOutput(): void {
  redactLinesOf(require('debug') as DebugModule);
}

/** Their copies are found once: every dockerode client the process makes would resolve them again. */
let librariesRedacted = false;

/**
 * Makes every copy of `debug` that the libraries dockpush runs can load write redacted lines too.
 * Resolving them costs a few milliseconds, so it is done where those libraries are used
 * (dockerode, loaded lazily), before their first line. Idempotent.
 */
export function redactLibraryDebugOutput(): void {
  if (librariesRedacted) return;
  for (const file of debugModuleFiles()) redactLinesOf(require(file) as DebugModule);
  librariesRedacted = true;
}

/**
 * A dockerode client the caller gives (`PushOptions.docker`) may come from the caller's own
 * install, with its own docker-modem and `debug`: those copies are found from the client's modem,
 * through the module that exports its class, and made to write redacted lines too. A client
 * whose modem no loaded module exports (bundled into one file) cannot be reached; `false` then.
 */
export function redactClientDebugOutput(docker: { modem?: unknown }): boolean {
  try {
    const modemClass = (docker.modem as object | null | undefined)?.constructor;
    const modemFile = modemClass && moduleFileExporting(modemClass);
    const debugFile = modemFile && resolveFrom('debug', dirname(modemFile));
    if (!debugFile) return false;
    const debug = require(debugFile) as Partial<DebugModule>;
    if (typeof debug.log !== 'function') return false;
    redactLinesOf(debug as DebugModule);
    return true;
  } catch {
    // A module system without `require.cache` (a bundle's shim): nothing to reach.
    return false;
  }
}

/** The file of a loaded CommonJS module whose exports are `value`. */
function moduleFileExporting(value: unknown): string | undefined {
  const cache = typeof require === 'function' ? (require.cache as NodeJS.Dict<NodeJS.Module> | undefined) : undefined;
  for (const [file, loaded] of Object.entries(cache ?? {})) if (loaded?.exports === value) return file;
  return undefined;
}

/**
 * Wraps the module's `log` so that each line is formatted, redacted, and then written as before:
 * to stderr, or wherever a program that set its own `log` sends it.
 */
function redactLinesOf(debug: DebugModule): void {
  if (redacting.has(debug)) return;
  const write = debug.log;
  debug.log = function (this: unknown, ...args: unknown[]) {
    return write.call(this, redact(formatWithOptions(debug.inspectOpts ?? {}, ...args)));
  };
  redacting.add(debug);
}

function debugModuleFiles(): Set<string> {
  const files = new Set([require.resolve('debug')]);
  for (const chain of DEBUG_USERS) {
    let from = __dirname;
    for (const name of chain) {
      const dir = packageDir(name, from);
      if (!dir) break;
      const file = resolveFrom('debug', dir);
      if (file) files.add(file);
      from = dir;
    }
  }
  return files;
}

function packageDir(name: string, from: string): string | undefined {
  const manifest = resolveFrom(`${name}/package.json`, from);
  return manifest && dirname(manifest);
}

function resolveFrom(request: string, from: string): string | undefined {
  try {
    return require.resolve(request, { paths: [from] });
  } catch {
    return undefined;
  }
}
