import createDebug from 'debug';
import { ArgumentsError, RegistryAuthError } from '../errors';
import { registerSecret } from '../redact';
import { ECR_PUBLIC_REGION, type EcrRegistry } from './ecr-registry';

const debug = createDebug('dockpush:ecr');
const debugSdk = createDebug('dockpush:aws-sdk');

/**
 * The AWS SDK v3 clients are loaded here, and only here, the first time an ECR
 * registry is involved: a push to any other registry never pays for loading them.
 * They use the SDK's own credential and region chains (env vars, profiles, SSO,
 * web identity, container and instance metadata), and honour `AWS_ENDPOINT_URL_*`.
 */
function quietSdk(): void {
  // The SDK warns on Node < 22 the first time a client is made; that is noise in a push log.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
}

/**
 * The SDK's warnings (e.g. "Multiple credential sources detected") go to `console.warn`
 * unless the client has a logger: this one sends them to `DEBUG=dockpush:aws-sdk`.
 * Request and response logs (`info`) are dropped: they could carry tokens.
 */
const sdkLogger = {
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: (...content: unknown[]) => debugSdk('warn: %s', content.map(String).join(' ')),
  error: (...content: unknown[]) => debugSdk('error: %O', content),
};

/** Options of every SDK client made here. */
function clientConfig(region?: string) {
  return { ...(region ? { region } : {}), logger: sdkLogger };
}

/** How to give the SDK credentials, for messages. */
const HOW_TO_GIVE_CREDENTIALS =
  'give AWS credentials the way the AWS CLI finds them: AWS_PROFILE (a profile in ~/.aws/config or ~/.aws/credentials), ' +
  'AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, "aws sso login", a web identity token (AWS_WEB_IDENTITY_TOKEN_FILE ' +
  'and AWS_ROLE_ARN), or a container or instance role';

/** The SDK found no credentials at all (as opposed to credentials AWS refused). */
function noCredentials(error: unknown): boolean {
  return (error as { name?: string } | undefined)?.name === 'CredentialsProviderError';
}

/** Finds the AWS account ID of the caller. */
export interface AccountIdProvider {
  /** `region`: the repository's, where STS is asked (its partition must match the credentials'). */
  getAccountId(region?: string): Promise<string>;
}

/** Finds the AWS region when the arguments do not give one. */
export interface RegionProvider {
  getRegion(): Promise<string | undefined>;
}

/** A registry login, with when it stops working. */
export interface EcrToken {
  username: string;
  password: string;
  expiresAt: Date;
}

/** Gets an authorization token for an ECR registry. */
export interface EcrTokenProvider {
  getToken(registry: EcrRegistry): Promise<EcrToken>;
}

/** Creates a private ECR repository. */
export interface EcrRepositoryCreator {
  createRepository(registry: Extract<EcrRegistry, { kind: 'private' }>, repoName: string): Promise<void>;
}

/** STS `GetCallerIdentity`, called at most once a process whatever the number of pushes. */
export class StsAccountIdProvider implements AccountIdProvider {
  private static pending: Promise<string> | undefined;

  getAccountId(region?: string): Promise<string> {
    StsAccountIdProvider.pending ??= this.fetch(region).catch((error: unknown) => {
      StsAccountIdProvider.pending = undefined;
      throw error;
    });
    return StsAccountIdProvider.pending;
  }

  private async fetch(repositoryRegion: string | undefined): Promise<string> {
    quietSdk();
    const { STSClient, GetCallerIdentityCommand } = await import('@aws-sdk/client-sts');
    const region = repositoryRegion ?? (await new SdkRegionProvider().getRegion()) ?? 'us-east-1';
    debug('STS GetCallerIdentity in %s', region);
    try {
      const out = await new STSClient(clientConfig(region)).send(new GetCallerIdentityCommand({}));
      if (!out.Account) throw new Error('STS returned no account');
      return out.Account;
    } catch (error) {
      if (noCredentials(error)) {
        throw new ArgumentsError(
          [
            {
              path: 'ecrRepo.accountId',
              message: `not given, and no AWS credentials were found to look it up with STS (${awsErrorText(error)}): set ecrRepo.accountId (account_id), or ${HOW_TO_GIVE_CREDENTIALS}`,
            },
          ],
          { cause: error },
        );
      }
      throw new RegistryAuthError(
        'AWS STS',
        `could not find the AWS account ID (${awsErrorText(error)}). Set ecrRepo.accountId, or give AWS credentials ` +
          '(AWS_PROFILE, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, SSO or a role) that may call sts:GetCallerIdentity.',
        { cause: error },
      );
    }
  }

  /** For tests: forget the cached account. */
  static reset(): void {
    StsAccountIdProvider.pending = undefined;
  }
}

/** The SDK's region chain: `AWS_REGION`, `AWS_DEFAULT_REGION`, then the profile. */
export class SdkRegionProvider implements RegionProvider {
  async getRegion(): Promise<string | undefined> {
    const fromEnv = process.env.AWS_REGION || process.env.AWS_DEFAULT_REGION;
    if (fromEnv) return fromEnv;
    quietSdk();
    const { STSClient } = await import('@aws-sdk/client-sts');
    try {
      const region = await new STSClient(clientConfig()).config.region();
      return region || undefined;
    } catch {
      return undefined;
    }
  }
}

/** ECR and ECR Public `GetAuthorizationToken`. */
export class SdkEcrTokenProvider implements EcrTokenProvider {
  async getToken(registry: EcrRegistry): Promise<EcrToken> {
    quietSdk();
    try {
      const data = registry.kind === 'public' ? await this.publicToken() : await this.privateToken(registry.region);
      const decoded = Buffer.from(data.token, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon < 0) throw new Error('the token is not of the form user:password');
      const token = {
        username: decoded.slice(0, colon),
        password: decoded.slice(colon + 1),
        expiresAt: data.expiresAt ?? new Date(Date.now() + 12 * 3600_000),
      };
      registerSecret(data.token);
      registerSecret(token.password, token.username);
      return token;
    } catch (error) {
      if (noCredentials(error)) {
        throw new RegistryAuthError(
          registry.host,
          `no AWS credentials were found to get an ECR authorization token with (${awsErrorText(error)}); ${HOW_TO_GIVE_CREDENTIALS}.`,
          { cause: error },
        );
      }
      const action =
        registry.kind === 'public'
          ? 'ecr-public:GetAuthorizationToken and sts:GetServiceBearerToken'
          : 'ecr:GetAuthorizationToken';
      throw new RegistryAuthError(
        registry.host,
        `could not get an ECR authorization token (${awsErrorText(error)}). Check the AWS credentials and that they allow ${action}.`,
        { cause: error },
      );
    }
  }

  private async privateToken(region: string): Promise<{ token: string; expiresAt?: Date }> {
    const { ECRClient, GetAuthorizationTokenCommand } = await import('@aws-sdk/client-ecr');
    debug('ECR GetAuthorizationToken in %s', region);
    const out = await new ECRClient(clientConfig(region)).send(new GetAuthorizationTokenCommand({}));
    const data = out.authorizationData?.[0];
    if (!data?.authorizationToken) throw new Error('ECR returned no authorization data');
    return { token: data.authorizationToken, ...(data.expiresAt ? { expiresAt: data.expiresAt } : {}) };
  }

  private async publicToken(): Promise<{ token: string; expiresAt?: Date }> {
    const { ECRPUBLICClient, GetAuthorizationTokenCommand } = await import('@aws-sdk/client-ecr-public');
    debug('ECR Public GetAuthorizationToken in %s', ECR_PUBLIC_REGION);
    const out = await new ECRPUBLICClient(clientConfig(ECR_PUBLIC_REGION)).send(new GetAuthorizationTokenCommand({}));
    const data = out.authorizationData;
    if (!data?.authorizationToken) throw new Error('ECR Public returned no authorization data');
    return { token: data.authorizationToken, ...(data.expiresAt ? { expiresAt: data.expiresAt } : {}) };
  }
}

/** ECR `CreateRepository` in the registry's account and region. */
export class SdkEcrRepositoryCreator implements EcrRepositoryCreator {
  async createRepository(registry: Extract<EcrRegistry, { kind: 'private' }>, repoName: string): Promise<void> {
    quietSdk();
    const { ECRClient, CreateRepositoryCommand } = await import('@aws-sdk/client-ecr');
    debug('ECR CreateRepository %s in %s', repoName, registry.region);
    try {
      await new ECRClient(clientConfig(registry.region)).send(
        new CreateRepositoryCommand({ repositoryName: repoName, registryId: registry.accountId }),
      );
    } catch (error) {
      if ((error as { name?: string }).name === 'RepositoryAlreadyExistsException') return;
      throw new RegistryAuthError(
        registry.host,
        `could not create ECR repository "${repoName}" (${awsErrorText(error)}). Check that the AWS credentials allow ecr:CreateRepository.`,
        { cause: error },
      );
    }
  }
}

/** `name: message` of an SDK error, short. */
export function awsErrorText(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`.slice(0, 300);
  return String(error);
}

/** The error for a private ECR repository with no region anywhere. */
export function missingRegionError(): ArgumentsError {
  return new ArgumentsError([
    {
      path: 'ecrRepo.awsRegion',
      message:
        'no AWS region: set ecrRepo.awsRegion (aws_region, --ecr-region), or AWS_REGION / AWS_DEFAULT_REGION, or a region in your AWS profile',
    },
  ]);
}
