import type { EngineName } from './args/push-args';
import type { PushPlan } from './plan/resolve-push-plan';

/** The outcome of one tag's push; a pushed tag's `imageId` is the local image it carries, where known. */
export type TagOutcome =
  | { tag: string; uri: string; status: 'pushed'; digest: string; size: number; attempts: number; imageId?: string }
  | { tag: string; uri: string; status: 'failed'; error: string; attempts: number }
  | { tag: string; uri: string; status: 'skipped'; reason: string };

/** A tag that reached the registry. */
export interface PushedTag {
  tag: string;
  uri: string;
  digest: string;
  size: number;
  /** The local image it carries: `image.id`, unless the tags named different local images. */
  imageId: string;
}

/** Runway's `hook_data` counterpart: what a push resolves to, prints with --json and writes to outputFile. */
export interface PushResult {
  image: { id: string; repo: string; tags: string[]; uri: Record<string, string> };
  pushed: PushedTag[];
  /** What uploaded the image: the Docker engine, or dockpush itself (the registry engine). */
  engine: EngineName;
}

/** Tells a dry run's plan from a push's result: every adapter reports them differently. */
export function isPushPlan(value: PushResult | PushPlan): value is PushPlan {
  return !('pushed' in value);
}
