import type { Debugger } from 'debug';
import { redactDebugOutput } from './debug-redaction';

/** A debug line: a `debug` format string and its arguments. */
export type DebugLog = (formatter: unknown, ...args: unknown[]) => void;

/**
 * dockpush's debug output for `namespace` (`dockpush:registry`), written through `debug`, which
 * decides from `DEBUG` what is shown. `debug` is loaded (and its output redacted) on the first
 * line written while `DEBUG` is set: a push without it never loads `debug` (its start and the
 * search for its optional dependencies cost a CLI run several milliseconds). `debug.enable()`
 * sets `DEBUG` as well, so enabling it from code still works.
 */
export function debugLog(namespace: string): DebugLog {
  let logger: Debugger | undefined;
  return (formatter, ...args) => {
    if (!logger) {
      if (!process.env['DEBUG']) return;
      logger = loadDebug()(namespace);
    }
    logger(formatter, ...args);
  };
}

function loadDebug(): (namespace: string) => Debugger {
  const createDebug = require('debug') as (namespace: string) => Debugger;
  redactDebugOutput();
  return createDebug;
}
