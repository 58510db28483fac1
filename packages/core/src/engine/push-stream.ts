import type { Readable } from 'node:stream';
import type { LayerState, PushEvent } from '../events';

/** One JSON message of the engine's push stream. */
export interface EngineMessage {
  status?: string;
  id?: string;
  progressDetail?: { current?: number; total?: number };
  aux?: { Tag?: string; Digest?: string; Size?: number };
  error?: string;
  errorDetail?: { message?: string; code?: number };
}

export interface PushDigest {
  digest: string;
  size: number;
}

/**
 * The engine reported a failure inside a push stream that began with HTTP 200, or the
 * stream itself went wrong (silent too long, a line too large). `kind` is set where
 * the cause is known without reading the message.
 */
export class EnginePushError extends Error {
  override name = 'EnginePushError';
  constructor(
    message: string,
    readonly kind?: 'transient' | 'permanent',
  ) {
    super(message);
  }
}

const DIGEST_LINE = /^(\S+): digest: (sha256:[0-9a-f]{64}) size: (\d+)/;

const LAYER_STATES: Array<[RegExp, LayerState]> = [
  [/^Preparing$/, 'preparing'],
  [/^Waiting$/, 'waiting'],
  [/^Pushing$/, 'pushing'],
  [/^Pushed$/, 'pushed'],
  [/^Layer already exists$/, 'exists'],
  [/^Mounted from /, 'exists'],
];

/**
 * Tracks one tag's push stream: turns engine messages into typed layer events, fails
 * on any `error`/`errorDetail` message (which dockerode's `followProgress` does not),
 * and takes the digest from the `aux` message or else the status line.
 */
export class PushStreamParser {
  private auxDigest: PushDigest | undefined;
  private lineDigest: PushDigest | undefined;
  private error: string | undefined;

  constructor(
    private readonly tag: string,
    private readonly emit: (event: PushEvent) => void,
  ) {}

  handle(message: EngineMessage): void {
    if (message.error !== undefined || message.errorDetail !== undefined) {
      this.error ??= message.errorDetail?.message || message.error || 'unknown engine error';
      return;
    }
    if (message.aux?.Digest) {
      this.auxDigest = { digest: message.aux.Digest, size: message.aux.Size ?? 0 };
      return;
    }
    const status = message.status ?? '';
    const digestLine = DIGEST_LINE.exec(status);
    if (digestLine?.[2] && digestLine[3]) {
      this.lineDigest = { digest: digestLine[2], size: Number(digestLine[3]) };
      return;
    }
    if (!message.id) return;
    const state = LAYER_STATES.find(([re]) => re.test(status))?.[1];
    if (!state) return;
    this.emit({
      type: 'layer',
      tag: this.tag,
      layer: message.id,
      state,
      ...(state === 'pushing' && message.progressDetail?.total
        ? { current: message.progressDetail.current ?? 0, total: message.progressDetail.total }
        : {}),
    });
  }

  /** The digest when the stream ended well; throws the engine's error otherwise. */
  finish(): PushDigest {
    if (this.error !== undefined) throw new EnginePushError(this.error);
    const digest = this.auxDigest ?? this.lineDigest;
    if (!digest) throw new EnginePushError('the engine ended the push without reporting a digest');
    return digest;
  }
}

/** A progress message is a few hundred bytes; a line larger than this is a broken or hostile engine. */
export const MAX_LINE_BYTES = 1024 * 1024;

export interface StreamLimits {
  /** Fail when no data arrives for this long. */
  idleMs?: number;
  /** The error for a stream silent for `idleMs`. */
  onIdle?: () => Error;
  /** Default `MAX_LINE_BYTES`. */
  maxLineBytes?: number;
}

const NEWLINE = 0x0a;

/**
 * Reads a newline-delimited JSON stream to its end, handing each message over. Each byte
 * is scanned once (a long line costs linear time, not quadratic); a line beyond
 * `maxLineBytes` and a stream silent beyond `idleMs` end the read with an error, and the
 * stream is destroyed.
 */
export async function readJsonStream(
  stream: Readable,
  onMessage: (message: EngineMessage) => void,
  limits: StreamLimits = {},
): Promise<void> {
  const maxLine = limits.maxLineBytes ?? MAX_LINE_BYTES;
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  const flush = (line: Buffer) => {
    const text = line.toString('utf8').trim();
    if (!text) return;
    try {
      onMessage(JSON.parse(text) as EngineMessage);
    } catch {
      onMessage({ error: `unreadable engine message: ${text.slice(0, 200)}` });
    }
  };
  const take = (chunk: Buffer) => {
    let start = 0;
    let newline: number;
    while ((newline = chunk.indexOf(NEWLINE, start)) >= 0) {
      const piece = chunk.subarray(start, newline);
      flush(pending.length > 0 ? Buffer.concat([...pending, piece]) : piece);
      pending = [];
      pendingBytes = 0;
      start = newline + 1;
    }
    if (start < chunk.length) {
      pending.push(chunk.subarray(start));
      pendingBytes += chunk.length - start;
      if (pendingBytes > maxLine) {
        throw new EnginePushError(
          `the Docker engine sent a line of progress larger than ${formatBytes(maxLine)}, which no engine sends; ` +
            'dockpush stopped reading it. Check what answers at DOCKER_HOST.',
          'permanent',
        );
      }
    }
  };

  let idle: NodeJS.Timeout | undefined;
  let idleError: Error | undefined;
  const arm = () => {
    if (limits.idleMs === undefined) return;
    clearTimeout(idle);
    idle = setTimeout(() => {
      idleError = limits.onIdle?.() ?? new EnginePushError('the push stream went silent', 'transient');
      stream.destroy(idleError);
    }, limits.idleMs);
  };
  try {
    arm();
    for await (const chunk of stream) {
      arm();
      take(typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : (chunk as Buffer));
    }
    if (pending.length > 0) flush(Buffer.concat(pending));
  } catch (error) {
    stream.destroy();
    throw idleError ?? error;
  } finally {
    clearTimeout(idle);
  }
}

function formatBytes(bytes: number): string {
  return bytes % (1024 * 1024) === 0 ? `${bytes / 1024 / 1024} MiB` : `${bytes} bytes`;
}
