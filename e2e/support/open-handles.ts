import type { ChildProcess } from 'node:child_process';
import net from 'node:net';

/**
 * What keeps a Node process alive: the handles it still refers to (servers, sockets, child
 * processes, pipes) and its timers. Jest's main process runs the e2e global setup and
 * teardown, and every test file too when it runs them in band (one worker, as on a 2-core
 * machine), so anything one of them leaves open keeps jest from exiting after the run.
 */

/** Set to 1 to print what is open at the end of the e2e global teardown. */
export const OPEN_HANDLES_SWITCH = 'DOCKPUSH_E2E_HANDLES';

/** How long after teardown jest's main process may still be alive before the watchdog reports. */
export const OPEN_HANDLES_GRACE_MS = 10_000;

interface HttpRequestInternals {
  method?: string;
  path?: string;
  socketPath?: string;
}

interface ProcessInternals {
  _getActiveHandles(): unknown[];
}

/**
 * One line per handle or timer that holds the process (unref'd ones do not): its type, and
 * where it is, as far as that tells which code opened it. Never the arguments of a child
 * process, nor anything else that may carry a secret.
 */
export function describeOpenHandles(
  handles: unknown[] = (process as unknown as ProcessInternals)._getActiveHandles(),
  resources: string[] = process.getActiveResourcesInfo(),
): string[] {
  const lines = handles.filter(holdsProcess).map(describeHandle);
  const timers = resources.filter((type) => type === 'Timeout' || type === 'Immediate');
  for (const type of new Set(timers)) {
    lines.push(`${type} x${timers.filter((t) => t === type).length} (a timer not cleared nor unref'd)`);
  }
  return lines;
}

/**
 * Arms a timer that does not itself hold the process: if the process is still alive
 * `afterMs` later, something else holds it, and `report` gets what that is. The run is not
 * ended: this is a diagnostic, so that the next hang is explained by the run that had it.
 */
export function watchForOpenHandles(
  afterMs = OPEN_HANDLES_GRACE_MS,
  report: (text: string) => void = (text) => process.stderr.write(text),
): NodeJS.Timeout {
  const timer = setTimeout(() => {
    const lines = describeOpenHandles();
    report(
      [
        '',
        `dockpush e2e: jest's main process is still alive ${afterMs / 1000} s after the global teardown.`,
        lines.length > 0
          ? 'These handles hold it (close the server, destroy the socket, end the child, clear the timer that opened it):'
          : 'No handle or timer was found holding it: look for a pending promise or a worker jest waits for.',
        ...lines.map((line) => `  - ${line}`),
        '',
      ].join('\n'),
    );
  }, afterMs);
  timer.unref();
  return timer;
}

function holdsProcess(handle: unknown): boolean {
  if (handle === process.stdin || handle === process.stdout || handle === process.stderr) return false;
  // An exited child's handle is closing: it is gone on the next turn of the event loop.
  if (isChildProcess(handle) && (handle.exitCode !== null || handle.signalCode !== null)) return false;
  const hasRef = (handle as { hasRef?: () => boolean } | null)?.hasRef;
  return typeof hasRef !== 'function' || hasRef.call(handle);
}

function describeHandle(handle: unknown): string {
  const type = (handle as object | null)?.constructor?.name ?? typeof handle;
  if (handle instanceof net.Server) {
    const address = handle.address();
    const where = typeof address === 'string' ? address : address ? `${address.address}:${address.port}` : 'no address';
    return `${type} listening on ${where}`;
  }
  if (handle instanceof net.Socket) {
    const request = (handle as unknown as { _httpMessage?: HttpRequestInternals })._httpMessage;
    // The path without its query, which may carry a signature or a token.
    const http = request
      ? `, HTTP ${request.method} ${(request.path ?? '').split('?')[0]} (a response not read to its end nor destroyed?)`
      : '';
    if (handle.remotePort !== undefined) {
      return `${type} ${handle.localAddress ?? '?'}:${handle.localPort ?? '?'} -> ${handle.remoteAddress}:${handle.remotePort}${http}`;
    }
    if (request?.socketPath) return `${type} to ${request.socketPath}${http}`;
    const fd = (handle as unknown as { _handle?: { fd?: number } })._handle?.fd;
    return `${type} (a pipe or unix socket${fd !== undefined && fd >= 0 ? `, fd ${fd}` : ''}; a child's stdio not closed?)`;
  }
  if (isChildProcess(handle)) {
    return `ChildProcess pid ${handle.pid} (${handle.spawnfile}), not exited or not waited for`;
  }
  return type;
}

function isChildProcess(handle: unknown): handle is ChildProcess {
  return (handle as { constructor?: { name?: string } } | null)?.constructor?.name === 'ChildProcess';
}
