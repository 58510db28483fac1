import type { ExplicitAuth } from '../args/push-args';
import { type EcrTokenProvider, SdkEcrTokenProvider } from '../ecr/aws-clients';
import type { Redactor } from '../redact';
import { type CredentialHelperRunner, runCredentialHelper } from './credential-helper';
import { dockerConfigPath, parseDockerConfig, readDockerConfigFile } from './docker-config';
import { DockerConfigAuthProvider } from './docker-config-auth-provider';
import { EcrAuthProvider } from './ecr-auth-provider';
import type { EcrTokenCache } from './ecr-token-cache';
import { ExplicitAuthProvider } from './explicit-auth-provider';
import type { AuthProvider, RegistryCredentials, ResolveOptions } from './registry-auth';

export interface CredentialChainOptions {
  auth?: ExplicitAuth;
  env?: NodeJS.ProcessEnv;
  ecrTokens?: EcrTokenProvider;
  /** Where ECR tokens are kept between pushes (the push client's); default one for this chain only. */
  ecrTokenCache?: EcrTokenCache;
  runHelper?: CredentialHelperRunner;
  /** Where the secrets the providers read are added (the push client's); default the process's. */
  redactor?: Redactor;
}

/**
 * The providers in the order `docker push` users expect (architecture.md § Credentials):
 * explicit `auth`, ECR, `DOCKER_AUTH_CONFIG`, the Docker config file.
 */
export function defaultAuthProviders(options: CredentialChainOptions = {}): AuthProvider[] {
  const env = options.env ?? process.env;
  const runHelper = options.runHelper ?? runCredentialHelper;
  const providers: AuthProvider[] = [];
  const redactor = options.redactor;
  if (options.auth) providers.push(new ExplicitAuthProvider(options.auth, redactor));
  providers.push(new EcrAuthProvider(options.ecrTokens ?? new SdkEcrTokenProvider(redactor), options.ecrTokenCache));
  const inline = env.DOCKER_AUTH_CONFIG;
  if (inline) {
    providers.push(
      new DockerConfigAuthProvider(
        () => parseDockerConfig(inline, 'DOCKER_AUTH_CONFIG', 'fix it, or unset DOCKER_AUTH_CONFIG'),
        'docker-auth-config',
        runHelper,
        env,
        redactor,
      ),
    );
  }
  const path = dockerConfigPath(env);
  providers.push(
    new DockerConfigAuthProvider(() => readDockerConfigFile(path), 'docker-config', runHelper, env, redactor),
  );
  return providers;
}

/** Asks each provider in turn; the first that answers wins, else anonymous (`{}`). */
export async function resolveCredentials(
  host: string,
  providers: AuthProvider[],
  options: ResolveOptions = {},
): Promise<RegistryCredentials> {
  for (const provider of providers) {
    const found = await provider.resolve(host, options);
    if (found) return found;
  }
  return { source: 'anonymous', authconfig: {} };
}
