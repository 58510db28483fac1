import { debugLog } from '../debug-log';
import { cancellationReason, formatDuration, timeoutMsOf, type WaitLimits, withDeadline } from '../deadline';
import { ArgumentsError, RegistryAuthError } from '../errors';
import { defaultRedactor, type Redactor } from '../redact';
import { ECR_PUBLIC_REGION, type EcrRegistry } from './ecr-registry';

const debug = debugLog('dockpush:ecr');
const debugSdk = debugLog('dockpush:aws-sdk');

/**
 * The AWS SDK v3 clients are loaded here, and only here, the first time an ECR
 * registry is involved: a push to any other registry never pays for loading them.
 * They use the SDK's own credential and region chains (env vars, profiles, SSO,
 * web identity, container and instance metadata), and honour `AWS_ENDPOINT_URL_*`.
 */
function newClient<T>(make: () => T): T {
  // The SDK warns on Node < 22 the first time a client is made (in its constructor, once a
  // process): noise in a push log. Dropped here without touching the environment, which
  // belongs to the user and to the child processes dockpush starts.
  const emitWarning = process.emitWarning;
  process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
    if (String(warning instanceof Error ? warning.message : warning).includes('NodeVersionSupportWarning')) return;
    (emitWarning as (...args: unknown[]) => void).call(process, warning, ...rest);
  }) as typeof process.emitWarning;
  try {
    return make();
  } finally {
    process.emitWarning = emitWarning;
  }
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

/**
 * Options of every SDK client made here: a connection that does not open, or a request
 * that gets no answer, fails after the deadline instead of the SDK's defaults (none for
 * the answer).
 */
function clientConfig(region?: string, limits?: WaitLimits) {
  const ms = timeoutMsOf(limits);
  return {
    ...(region ? { region } : {}),
    logger: sdkLogger,
    requestHandler: { connectionTimeout: ms, requestTimeout: ms, throwOnRequestTimeout: true },
  };
}

/** The SDK's own endpoint variables, as its clients read them. */
const ENDPOINT_VARIABLES = {
  STS: 'AWS_ENDPOINT_URL_STS',
  ECR: 'AWS_ENDPOINT_URL_ECR',
  'ECR Public': 'AWS_ENDPOINT_URL_ECR_PUBLIC',
} as const;
type AwsService = keyof typeof ENDPOINT_VARIABLES;

function endpointOf(service: AwsService, region: string): string {
  const configured = process.env[ENDPOINT_VARIABLES[service]] || process.env.AWS_ENDPOINT_URL;
  if (configured) return configured;
  const host = service === 'STS' ? 'sts' : service === 'ECR' ? 'api.ecr' : 'api.ecr-public';
  return `https://${host}.${region}.amazonaws.com${region.startsWith('cn-') ? '.cn' : ''}`;
}

/** An AWS call that did not end by the deadline. */
export class AwsDeadlineError extends Error {
  override name = 'AwsDeadlineError';
}

/**
 * One SDK call under an overall deadline (every retry of the SDK included); the run's
 * cancellation aborts it at once.
 */
function callAws<T>(
  service: AwsService,
  operation: string,
  region: string,
  limits: WaitLimits | undefined,
  send: (abortSignal: AbortSignal) => Promise<T>,
): Promise<T> {
  const ms = timeoutMsOf(limits);
  return withDeadline(
    send,
    ms,
    () =>
      new AwsDeadlineError(
        `AWS ${service} ${operation} at ${endpointOf(service, region)} did not answer within ${formatDuration(ms)}. ` +
          `Check the network and ${ENDPOINT_VARIABLES[service]} / AWS_ENDPOINT_URL if set, or allow it longer with timeout (--timeout)`,
      ),
    limits?.signal,
  );
}

/** The run's cancellation, when it is why a call failed: passed on as it is, with no advice about credentials. */
function cancellationOf(limits: WaitLimits | undefined): Error | undefined {
  return limits?.signal?.aborted ? cancellationReason(limits.signal) : undefined;
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
  getAccountId(region?: string, limits?: WaitLimits): Promise<string>;
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
  getToken(registry: EcrRegistry, limits?: WaitLimits): Promise<EcrToken>;
}

/** Creates a private ECR repository. */
export interface EcrRepositoryCreator {
  createRepository(
    registry: Extract<EcrRegistry, { kind: 'private' }>,
    repoName: string,
    limits?: WaitLimits,
  ): Promise<void>;
}

/** STS `GetCallerIdentity`, called at most once a process whatever the number of pushes. */
export class StsAccountIdProvider implements AccountIdProvider {
  /** One lookup per region (credentials may differ by region's partition), kept by this provider only. */
  private readonly pending = new Map<string, Promise<string>>();

  getAccountId(region?: string, limits?: WaitLimits): Promise<string> {
    const key = region ?? '';
    let pending = this.pending.get(key);
    if (!pending) {
      pending = this.fetch(region, limits);
      this.pending.set(key, pending);
      // A failure is not kept: the next push asks again.
      pending.catch(() => this.pending.delete(key));
    }
    return pending;
  }

  private async fetch(repositoryRegion: string | undefined, limits: WaitLimits | undefined): Promise<string> {
    const { STSClient, GetCallerIdentityCommand } = await import('@aws-sdk/client-sts');
    const region = repositoryRegion ?? (await new SdkRegionProvider().getRegion()) ?? 'us-east-1';
    debug('STS GetCallerIdentity in %s', region);
    try {
      const client = newClient(() => new STSClient(clientConfig(region, limits)));
      const out = await callAws('STS', 'GetCallerIdentity', region, limits, (abortSignal) =>
        client.send(new GetCallerIdentityCommand({}), { abortSignal }),
      );
      if (!out.Account) throw new Error('STS returned no account');
      return out.Account;
    } catch (error) {
      const cancelled = cancellationOf(limits);
      if (cancelled) throw cancelled;
      if (error instanceof AwsDeadlineError) {
        throw new RegistryAuthError(
          'AWS STS',
          `could not find the AWS account ID: ${error.message}, or set ecrRepo.accountId.`,
          {
            cause: error,
          },
        );
      }
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
}

/**
 * The SDK's region chain: `AWS_REGION`, `AWS_DEFAULT_REGION`, then the profile
 * (`AWS_PROFILE`, else `default`), each read from `env` (the push's, else the process's).
 */
export class SdkRegionProvider implements RegionProvider {
  constructor(private readonly env: NodeJS.ProcessEnv = process.env) {}

  async getRegion(): Promise<string | undefined> {
    const fromEnv = this.env.AWS_REGION || this.env.AWS_DEFAULT_REGION;
    if (fromEnv) return fromEnv;
    const { STSClient } = await import('@aws-sdk/client-sts');
    const profile = this.env.AWS_PROFILE;
    try {
      const client = newClient(() => new STSClient({ ...clientConfig(), ...(profile ? { profile } : {}) }));
      const region = await client.config.region();
      return region || undefined;
    } catch {
      return undefined;
    }
  }
}

/** ECR and ECR Public `GetAuthorizationToken`. */
export class SdkEcrTokenProvider implements EcrTokenProvider {
  /** `redactor`: where the token is added for redaction the moment it arrives. */
  constructor(private readonly redactor: Redactor = defaultRedactor) {}

  async getToken(registry: EcrRegistry, limits?: WaitLimits): Promise<EcrToken> {
    try {
      const data =
        registry.kind === 'public' ? await this.publicToken(limits) : await this.privateToken(registry.region, limits);
      const decoded = Buffer.from(data.token, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon < 0) throw new Error('the token is not of the form user:password');
      const token = {
        username: decoded.slice(0, colon),
        password: decoded.slice(colon + 1),
        expiresAt: data.expiresAt ?? new Date(Date.now() + 12 * 3600_000),
      };
      this.redactor.add(data.token);
      this.redactor.add(token.password, token.username);
      return token;
    } catch (error) {
      const cancelled = cancellationOf(limits);
      if (cancelled) throw cancelled;
      if (error instanceof AwsDeadlineError) {
        throw new RegistryAuthError(registry.host, `could not get an ECR authorization token: ${error.message}.`, {
          cause: error,
        });
      }
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

  private async privateToken(region: string, limits?: WaitLimits): Promise<{ token: string; expiresAt?: Date }> {
    const { ECRClient, GetAuthorizationTokenCommand } = await import('@aws-sdk/client-ecr');
    debug('ECR GetAuthorizationToken in %s', region);
    const client = newClient(() => new ECRClient(clientConfig(region, limits)));
    const out = await callAws('ECR', 'GetAuthorizationToken', region, limits, (abortSignal) =>
      client.send(new GetAuthorizationTokenCommand({}), { abortSignal }),
    );
    const data = out.authorizationData?.[0];
    if (!data?.authorizationToken) throw new Error('ECR returned no authorization data');
    return { token: data.authorizationToken, ...(data.expiresAt ? { expiresAt: data.expiresAt } : {}) };
  }

  private async publicToken(limits?: WaitLimits): Promise<{ token: string; expiresAt?: Date }> {
    const { ECRPUBLICClient, GetAuthorizationTokenCommand } = await import('@aws-sdk/client-ecr-public');
    debug('ECR Public GetAuthorizationToken in %s', ECR_PUBLIC_REGION);
    const client = newClient(() => new ECRPUBLICClient(clientConfig(ECR_PUBLIC_REGION, limits)));
    const out = await callAws('ECR Public', 'GetAuthorizationToken', ECR_PUBLIC_REGION, limits, (abortSignal) =>
      client.send(new GetAuthorizationTokenCommand({}), { abortSignal }),
    );
    const data = out.authorizationData;
    if (!data?.authorizationToken) throw new Error('ECR Public returned no authorization data');
    return { token: data.authorizationToken, ...(data.expiresAt ? { expiresAt: data.expiresAt } : {}) };
  }
}

/** ECR `CreateRepository` in the registry's account and region. */
export class SdkEcrRepositoryCreator implements EcrRepositoryCreator {
  async createRepository(
    registry: Extract<EcrRegistry, { kind: 'private' }>,
    repoName: string,
    limits?: WaitLimits,
  ): Promise<void> {
    const { ECRClient, CreateRepositoryCommand } = await import('@aws-sdk/client-ecr');
    debug('ECR CreateRepository %s in %s', repoName, registry.region);
    try {
      const client = newClient(() => new ECRClient(clientConfig(registry.region, limits)));
      await callAws('ECR', 'CreateRepository', registry.region, limits, (abortSignal) =>
        client.send(new CreateRepositoryCommand({ repositoryName: repoName, registryId: registry.accountId }), {
          abortSignal,
        }),
      );
    } catch (error) {
      const cancelled = cancellationOf(limits);
      if (cancelled) throw cancelled;
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
