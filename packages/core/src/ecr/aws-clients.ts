import createDebug from 'debug';
import { ArgumentsError, RegistryAuthError } from '../errors';
import { registerSecret } from '../redact';
import { ECR_PUBLIC_REGION, type EcrRegistry } from './ecr-registry';

const debug = createDebug('dockpush:ecr');

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

/** Finds the AWS account ID of the caller. */
export interface AccountIdProvider {
  getAccountId(): Promise<string>;
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

  getAccountId(): Promise<string> {
    StsAccountIdProvider.pending ??= this.fetch().catch((error: unknown) => {
      StsAccountIdProvider.pending = undefined;
      throw error;
    });
    return StsAccountIdProvider.pending;
  }

  private async fetch(): Promise<string> {
    quietSdk();
    const { STSClient, GetCallerIdentityCommand } = await import('@aws-sdk/client-sts');
    const region = (await new SdkRegionProvider().getRegion()) ?? 'us-east-1';
    debug('STS GetCallerIdentity in %s', region);
    try {
      const out = await new STSClient({ region }).send(new GetCallerIdentityCommand({}));
      if (!out.Account) throw new Error('STS returned no account');
      return out.Account;
    } catch (error) {
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
      const region = await new STSClient({}).config.region();
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
    const out = await new ECRClient({ region }).send(new GetAuthorizationTokenCommand({}));
    const data = out.authorizationData?.[0];
    if (!data?.authorizationToken) throw new Error('ECR returned no authorization data');
    return { token: data.authorizationToken, ...(data.expiresAt ? { expiresAt: data.expiresAt } : {}) };
  }

  private async publicToken(): Promise<{ token: string; expiresAt?: Date }> {
    const { ECRPUBLICClient, GetAuthorizationTokenCommand } = await import('@aws-sdk/client-ecr-public');
    debug('ECR Public GetAuthorizationToken in %s', ECR_PUBLIC_REGION);
    const out = await new ECRPUBLICClient({ region: ECR_PUBLIC_REGION }).send(new GetAuthorizationTokenCommand({}));
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
      await new ECRClient({ region: registry.region }).send(
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
        'no AWS region: set ecrRepo.awsRegion (aws_region), or AWS_REGION / AWS_DEFAULT_REGION, or a region in your AWS profile',
    },
  ]);
}
