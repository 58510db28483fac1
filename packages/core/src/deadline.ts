import { Readable } from 'node:stream';

/**
 * Deadlines: every wait on a peer (the engine, a credential helper, AWS, a registry
 * through the engine) ends, by default after `DEFAULT_TIMEOUT_SECONDS` without an
 * answer or progress; the `timeout` option changes it.
 */
export const DEFAULT_TIMEOUT_SECONDS = 60;

/** How long one wait may go without an answer, and the run's cancellation. */
export interface WaitLimits {
  /** Milliseconds; `DEFAULT_TIMEOUT_SECONDS` when not given. */
  timeoutMs?: number;
  /** Aborted when the run is cancelled (SIGINT/SIGTERM, or the caller's signal). */
  signal?: AbortSignal;
}

export function timeoutMsOf(limits: WaitLimits | undefined): number {
  return limits?.timeoutMs ?? DEFAULT_TIMEOUT_SECONDS * 1000;
}

/** `12 s`, `1.5 s`, `250 ms`, `30 min`: a deadline as a user reads it. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms} ms`;
  if (ms >= 600_000 && ms % 60_000 === 0) return `${ms / 60_000} min`;
  const seconds = ms / 1000;
  return `${Number.isInteger(seconds) ? seconds : seconds.toFixed(1)} s`;
}

/**
 * Runs `task` with a signal that aborts when `ms` pass or the outer signal aborts, and
 * settles as soon as either happens, whether or not the task honours its signal: with
 * `expired()`'s error on the deadline, with the outer signal's reason on cancellation.
 */
export function withDeadline<T>(
  task: (signal: AbortSignal) => Promise<T>,
  ms: number,
  expired: () => Error,
  outer?: AbortSignal,
): Promise<T> {
  if (outer?.aborted) return Promise.reject(cancellationReason(outer));
  const controller = new AbortController();
  return new Promise<T>((resolve, reject) => {
    const settle = () => {
      clearTimeout(timer);
      outer?.removeEventListener('abort', onAbort);
    };
    const onAbort = () => {
      settle();
      const reason = cancellationReason(outer);
      controller.abort(reason);
      reject(reason);
    };
    const timer = setTimeout(() => {
      settle();
      const error = expired();
      controller.abort(error);
      reject(error);
    }, ms);
    outer?.addEventListener('abort', onAbort, { once: true });
    task(controller.signal).then(
      (value) => {
        settle();
        resolve(value);
      },
      (error: unknown) => {
        settle();
        reject(error);
      },
    );
  });
}

/** The reason a signal was aborted, as an Error. */
export function cancellationReason(signal: AbortSignal | undefined): Error {
  const reason: unknown = signal?.reason;
  return reason instanceof Error ? reason : new Error('cancelled');
}

/**
 * `source` read with a deadline on each wait for data: a peer that stops sending mid-stream
 * fails the read with `expired()`'s error after `ms`, while the time its reader takes between
 * reads (an upload that pauses it, for as long as it takes) does not count. The signal's abort
 * ends it at once with its reason.
 */
export function readWithDeadline(
  source: NodeJS.ReadableStream,
  ms: number,
  expired: () => Error,
  signal?: AbortSignal,
): Readable {
  const chunks = source[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  let timer: NodeJS.Timeout | undefined;
  const onAbort = () => output.destroy(cancellationReason(signal));
  const output = new Readable({
    // Nothing read ahead: the source is asked for data only when the reader wants it.
    highWaterMark: 0,
    read() {
      timer = setTimeout(() => output.destroy(expired()), ms);
      chunks.next().then(
        (next) => {
          clearTimeout(timer);
          if (output.destroyed) return;
          output.push(next.done ? null : next.value);
        },
        (error: unknown) => {
          clearTimeout(timer);
          output.destroy(error as Error);
        },
      );
    },
    destroy(error, callback) {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      (source as { destroy?: () => void }).destroy?.();
      callback(error);
    },
  });
  if (signal?.aborted) onAbort();
  else signal?.addEventListener('abort', onAbort, { once: true });
  return output;
}
