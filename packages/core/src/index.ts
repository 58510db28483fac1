/**
 * The surface the adapters (dockpush, @dockpush/nx, @dockpush/gulp, @dockpush/grunt) are
 * built on, as packages/core/README.md lists it. Everything else in core is internal.
 */
export { createPushClient, pushImage, resolvePushPlan, type PushClient } from './push-client';
export type { PushOptions } from './push-options';
export type { PushPlan } from './plan/resolve-push-plan';
export { isPushPlan, type PushResult, type PushedTag, type TagOutcome } from './push-result';
export {
  parsePushArgs,
  closest,
  type PushArgs,
  type PushArgsInput,
  type PushTarget,
  type EcrRepoArgs,
  type ExplicitAuth,
} from './args/push-args';
export { explainInvalidRepository, splitRepoTag } from './args/reference';
export * from './errors';
export type { PushEvent, LayerState, ProgressListener } from './events';
export {
  createProgressRenderer,
  detectProgressMode,
  type ProgressMode,
  type ProgressRenderer,
  type ProgressRendererOptions,
} from './progress/progress-renderer';
export { redact, registerSecret, type Redactor } from './redact';
export { visible } from './printable';
export { parseJsonText, JsonTextError, type ParseJsonOptions } from './json-text';
// The collaborators a caller may pass in PushOptions instead of the defaults.
export type { AuthProvider, CredentialSource, EngineAuthConfig, RegistryCredentials } from './auth/registry-auth';
export type { CredentialHelperRunner } from './auth/credential-helper';
export type { EcrTokenCache } from './auth/ecr-token-cache';
export type {
  AccountIdProvider,
  RegionProvider,
  EcrToken,
  EcrTokenProvider,
  EcrRepositoryCreator,
} from './ecr/aws-clients';
