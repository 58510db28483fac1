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

/** The engine reported a failure inside a push stream that began with HTTP 200. */
export class EnginePushError extends Error {
  override name = 'EnginePushError';
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

/** Reads a newline-delimited JSON stream to its end, handing each message over. */
export async function readJsonStream(stream: Readable, onMessage: (message: EngineMessage) => void): Promise<void> {
  let buffered = '';
  const flush = (line: string) => {
    const text = line.trim();
    if (!text) return;
    try {
      onMessage(JSON.parse(text) as EngineMessage);
    } catch {
      onMessage({ error: `unreadable engine message: ${text.slice(0, 200)}` });
    }
  };
  for await (const chunk of stream) {
    buffered += typeof chunk === 'string' ? chunk : (chunk as Buffer).toString('utf8');
    let newline: number;
    while ((newline = buffered.indexOf('\n')) >= 0) {
      flush(buffered.slice(0, newline));
      buffered = buffered.slice(newline + 1);
    }
  }
  flush(buffered);
}
