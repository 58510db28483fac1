/**
 * dockpush's Node API: `pushImage` and `resolvePushPlan` over @dockpush/core, the typed
 * errors they reject with, and the progress renderer the CLI uses.
 */
export {
  pushImage,
  resolvePushPlan,
  isPushPlan,
  type PushImageArgs,
  type PushImageOptions,
  type RunwayPushArgs,
  type RunwayEcrRepo,
} from './api/push-image';
export * from '@dockpush/core/errors';
export {
  createProgressRenderer,
  detectProgressMode,
  type TagOutcome,
  type PushArgsInput,
  type PushResult,
  type PushedTag,
  type PushPlan,
  type PushEvent,
  type LayerState,
  type ProgressListener,
  type ProgressMode,
  type ProgressRenderer,
  type ProgressRendererOptions,
  type CredentialSource,
} from '@dockpush/core';
