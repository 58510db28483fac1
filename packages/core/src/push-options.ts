import type Dockerode from 'dockerode';
import type { CredentialHelperRunner } from './auth/credential-helper';
import type { EcrTokenCache } from './auth/ecr-token-cache';
import type { AuthProvider } from './auth/registry-auth';
import type { AccountIdProvider, EcrRepositoryCreator, EcrTokenProvider, RegionProvider } from './ecr/aws-clients';
import type { ProgressListener } from './events';
import type { Redactor } from './redact';

/**
 * Collaborators of a push, each with a default. Tests pass fakes here instead of
 * patching globals; adapters pass `onProgress` and `signal`.
 */
export interface PushOptions {
  onProgress?: ProgressListener;
  signal?: AbortSignal;
  /** A dockerode client; default: `DOCKER_HOST`, else the local socket. */
  docker?: Dockerode;
  env?: NodeJS.ProcessEnv;
  /** Where tag rules read git and `{version}` reads package.json; default the current directory. */
  cwd?: string;
  /**
   * Values an adapter knows: placeholders `{version}` (else package.json in `cwd`) and
   * `{projectName}` (Nx); `semver`, the version `type=semver` and `type=match` rules without
   * `value=` render from in place of the git tag at HEAD (e.g. the version `nx release` resolved).
   */
  tagValues?: { version?: string; projectName?: string; semver?: string };
  accountIds?: AccountIdProvider;
  regions?: RegionProvider;
  ecrTokens?: EcrTokenProvider;
  /** ECR tokens kept between pushes; a push client passes its own, else each push starts empty. */
  ecrTokenCache?: EcrTokenCache;
  ecrRepositories?: EcrRepositoryCreator;
  runCredentialHelper?: CredentialHelperRunner;
  /** Where the push's secrets are added for redaction; a push client passes its own, else the process's. */
  redactor?: Redactor;
  /** Replaces the whole credential chain. */
  authProviders?: AuthProvider[];
  /** Waits between retries; default a real timer. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}
