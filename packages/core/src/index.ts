import { redactDebugOutput } from './debug-redaction';

// Before anything can log: debug output from dockpush and the libraries it runs is redacted.
redactDebugOutput();

export {
  parsePushArgs,
  pushArgsShape,
  ecrRepoSchema,
  authSchema,
  closest,
  DEFAULT_CONCURRENCY,
  DEFAULT_RETRIES,
  type PushArgs,
  type PushArgsInput,
  type PushTarget,
  type EcrRepoArgs,
  type ExplicitAuth,
} from './args/push-args';
export { parseReference, explainInvalidRepository, isValidTag, registryHostOf, splitRepoTag } from './args/reference';
export { DockerImage, type ImageInspectInfo } from './image/docker-image';
export {
  parseEcrRegistry,
  privateEcrHost,
  publicEcrRepository,
  ECR_PUBLIC_HOST,
  type EcrRegistry,
} from './ecr/ecr-registry';
export {
  StsAccountIdProvider,
  SdkRegionProvider,
  SdkEcrTokenProvider,
  SdkEcrRepositoryCreator,
  type AccountIdProvider,
  type RegionProvider,
  type EcrToken,
  type EcrTokenProvider,
  type EcrRepositoryCreator,
} from './ecr/aws-clients';
export type { AuthProvider, CredentialSource, EngineAuthConfig, RegistryCredentials } from './auth/registry-auth';
export { defaultAuthProviders, resolveCredentials } from './auth/credential-chain';
export { EcrAuthProvider } from './auth/ecr-auth-provider';
export { DockerConfigAuthProvider } from './auth/docker-config-auth-provider';
export { ExplicitAuthProvider } from './auth/explicit-auth-provider';
export { runCredentialHelper, type CredentialHelperRunner } from './auth/credential-helper';
export { createDockerClient, describeDockerHost } from './engine/docker-client';
export { classifyPushError, type PushErrorKind } from './engine/push-error-kind';
export {
  DockpushError,
  ArgumentsError,
  DockerUnavailableError,
  ImageNotFoundError,
  RegistryAuthError,
  PushFailedError,
  PushCancelledError,
  OutputFileError,
  ProgressListenerError,
  type ArgumentIssue,
} from './errors';
export type { PushEvent, LayerState, ProgressListener } from './events';
export type { PushOptions } from './push-options';
export type { PushPlan } from './plan/resolve-push-plan';
export { createPushClient, pushImage, resolvePushPlan, type PushClient } from './push-client';
export { isPushPlan, type PushResult, type PushedTag, type TagOutcome } from './push-result';
export { redact, registerSecret } from './redact';
export { printable, visible } from './printable';
export { parseJsonText, JsonTextError, type ParseJsonOptions } from './json-text';
export {
  createProgressRenderer,
  detectProgressMode,
  formatBytes,
  formatDuration,
  type ProgressMode,
  type ProgressRenderer,
  type ProgressRendererOptions,
} from './progress/progress-renderer';
