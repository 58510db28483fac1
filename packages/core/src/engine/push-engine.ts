import type { PushArgs } from '../args/push-args';
import type { WaitLimits } from '../deadline';
import type { PushEvent } from '../events';
import type { ResolvedPush } from '../plan/resolve-push-plan';
import type { PushOptions } from '../push-options';
import type { TagOutcome } from '../push-result';
import type { EnginePort } from './engine-port';

/** One planned push, as an engine receives it. */
export interface PushJob {
  args: PushArgs;
  resolved: ResolvedPush;
  options: PushOptions;
  /** The push's deadline and the caller's cancellation. */
  limits: WaitLimits;
  /** Aborted by a cancellation or by a listener that threw: start no new work. */
  signal: AbortSignal;
  emit: (event: PushEvent) => void;
  /** The local Docker engine, pinged on first use; only asked for when the push needs it. */
  dockerEngine: () => Promise<EnginePort>;
}

/** What an engine pushed: the image ID and one outcome per planned tag, in the plan's order. */
export interface EnginePushResult {
  /** The image pushed; where the tags name different local images, the first tag's. */
  imageId: string;
  /** Each tag's image where the tags name different local images (no `source`, no `image`). */
  imageOf?: Map<string, string>;
  outcomes: TagOutcome[];
}

/**
 * Pushes the tags of a planned push, emitting progress events, and returns every tag's
 * outcome (a failed tag is an outcome, not a throw). Throws the shared typed errors for what
 * stops the whole push: `RegistryAuthError`, `ImageNotFoundError`, `DockerUnavailableError`.
 */
export interface PushEngine {
  push(job: PushJob): Promise<EnginePushResult>;
}
