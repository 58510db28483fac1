/** The state of one layer in a tag's push, as the engine reports it. */
export type LayerState = 'preparing' | 'waiting' | 'pushing' | 'pushed' | 'exists';

/** Typed progress of a push. Core never prints: adapters render these. */
export type PushEvent =
  | { type: 'tag-started'; tag: string; uri: string; attempt: number }
  | {
      type: 'layer';
      tag: string;
      layer: string;
      state: LayerState;
      /** Bytes sent so far and the layer's size, while `pushing`. */
      current?: number;
      total?: number;
    }
  | { type: 'tag-retrying'; tag: string; uri: string; attempt: number; delayMs: number; reason: string }
  | { type: 'tag-done'; tag: string; uri: string; digest: string; size: number; durationMs: number }
  | { type: 'tag-failed'; tag: string; uri: string; error: string }
  | { type: 'tagged'; source: string; uri: string }
  | { type: 'repository-created'; repository: string }
  /** Something about how the push goes that a user would want to know (a slower path taken). */
  | { type: 'notice'; message: string };

export type ProgressListener = (event: PushEvent) => void;
