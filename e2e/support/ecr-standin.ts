import { randomUUID } from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import { listenOnLoopback, type LoopbackServer } from './loopback-server';

/**
 * A loopback stand-in for AWS STS, ECR and ECR Public, speaking their wire protocols so
 * that the real AWS SDK v3 clients talk to it unchanged through `AWS_ENDPOINT_URL_STS`,
 * `AWS_ENDPOINT_URL_ECR` and `AWS_ENDPOINT_URL_ECR_PUBLIC`:
 *
 * - STS: the query protocol, `POST /` with a form body `Action=GetCallerIdentity&Version=…`,
 *   answered in XML;
 * - ECR: JSON 1.1, `X-Amz-Target: AmazonEC2ContainerRegistry_V20150921.<Operation>`;
 * - ECR Public: JSON 1.1, `X-Amz-Target: SpencerFrontendService.<Operation>`.
 *
 * It records every call with the region and service of the SigV4 credential scope (where
 * the SDK meant the call to go), so tests can assert which calls a push made, and where.
 */

export type AwsService = 'sts' | 'ecr' | 'ecr-public';

export interface StandInCall {
  service: AwsService;
  action: string;
  /** Region of the SigV4 credential scope. */
  region: string | undefined;
  /** Signing name of the SigV4 credential scope (`sts`, `ecr`, `ecr-public`). */
  signingName: string | undefined;
  accessKeyId: string | undefined;
  input: Record<string, unknown>;
}

export interface EcrStandInOptions {
  /** The caller's account: what STS answers, and ECR's default registry ID. */
  accountId: string;
  /** The registry password inside the tokens handed out (user `AWS`). */
  password: string;
  /** How long a token lives (default 12 hours, as in ECR). */
  tokenLifetimeMs?: number;
}

const ECR_TARGET = 'AmazonEC2ContainerRegistry_V20150921';
const ECR_PUBLIC_TARGET = 'SpencerFrontendService';

export class EcrStandIn {
  readonly calls: StandInCall[] = [];
  private readonly queuedPasswords: string[] = [];
  /** `<registry host>/<repository path>` of the repositories that exist. */
  private readonly repositories = new Set<string>();

  private constructor(
    private readonly server: LoopbackServer,
    readonly url: string,
    private readonly options: EcrStandInOptions,
  ) {}

  static async start(options: EcrStandInOptions): Promise<EcrStandIn> {
    const server = http.createServer();
    const listening = await listenOnLoopback(server);
    const standIn = new EcrStandIn(listening, `http://${listening.host}`, options);
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      standIn.handle(req, res).catch((error: unknown) => {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(String(error));
      });
    });
    return standIn;
  }

  /** The `AWS_ENDPOINT_URL_*` variables that send the SDK's STS, ECR and ECR Public calls here. */
  endpointEnv(): Record<string, string> {
    return {
      AWS_ENDPOINT_URL_STS: this.url,
      AWS_ENDPOINT_URL_ECR: this.url,
      AWS_ENDPOINT_URL_ECR_PUBLIC: this.url,
    };
  }

  /** Calls of one action (`GetCallerIdentity`, `GetAuthorizationToken`, …), of one service if given. */
  callsOf(action: string, service?: AwsService): StandInCall[] {
    return this.calls.filter((c) => c.action === action && (service === undefined || c.service === service));
  }

  /** The next tokens carry these passwords, in order; then the configured one again. */
  queuePasswords(...passwords: string[]): void {
    this.queuedPasswords.push(...passwords);
  }

  /** Makes a repository exist, as if created in the console. */
  addRepository(host: string, path: string): void {
    this.repositories.add(`${host}/${path}`);
  }

  hasRepository(host: string, path: string): boolean {
    return this.repositories.has(`${host}/${path}`);
  }

  /** Forgets the calls and queued passwords (not the repositories). */
  reset(): void {
    this.calls.length = 0;
    this.queuedPasswords.length = 0;
  }

  close(): Promise<void> {
    return this.server.close();
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    const scope = credentialScope(req.headers.authorization);
    const target = req.headers['x-amz-target'];
    if (typeof target === 'string') {
      const [prefix, action = ''] = target.split('.');
      const service = prefix === ECR_TARGET ? 'ecr' : prefix === ECR_PUBLIC_TARGET ? 'ecr-public' : undefined;
      const input = body ? (JSON.parse(body) as Record<string, unknown>) : {};
      if (!service) return jsonError(res, 400, 'UnknownOperationException', `unknown target ${target}`);
      this.calls.push({ service, action, ...scope, input });
      return service === 'ecr' ? this.ecr(action, input, scope.region, res) : this.ecrPublic(action, res);
    }
    const form = Object.fromEntries(new URLSearchParams(body));
    const action = form.Action ?? '';
    this.calls.push({ service: 'sts', action, ...scope, input: form });
    if (action !== 'GetCallerIdentity') return stsError(res, 'InvalidAction', `${action} is not served here`);
    res.writeHead(200, { 'content-type': 'text/xml' }).end(
      `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <GetCallerIdentityResult>
    <Arn>arn:aws:iam::${this.options.accountId}:user/dockpush-e2e</Arn>
    <UserId>AIDADOCKPUSHE2E</UserId>
    <Account>${this.options.accountId}</Account>
  </GetCallerIdentityResult>
  <ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata>
</GetCallerIdentityResponse>`,
    );
  }

  private ecr(action: string, input: Record<string, unknown>, region: string | undefined, res: ServerResponse): void {
    const registryId = typeof input.registryId === 'string' ? input.registryId : this.options.accountId;
    const host = `${registryId}.dkr.ecr.${region ?? 'us-east-1'}.amazonaws.com`;
    switch (action) {
      case 'GetAuthorizationToken':
        return json(res, {
          authorizationData: [
            { ...this.token(), proxyEndpoint: `https://${this.options.accountId}.dkr.ecr.${region}.amazonaws.com` },
          ],
        });
      case 'CreateRepository': {
        const name = String(input.repositoryName);
        if (this.hasRepository(host, name)) {
          return jsonError(
            res,
            400,
            'RepositoryAlreadyExistsException',
            `The repository with name '${name}' already exists in the registry with id '${registryId}'`,
          );
        }
        this.addRepository(host, name);
        return json(res, { repository: repository(registryId, region, host, name) });
      }
      case 'DescribeRepositories': {
        const names = Array.isArray(input.repositoryNames) ? input.repositoryNames.map(String) : [];
        const missing = names.find((n) => !this.hasRepository(host, n));
        if (missing) {
          return jsonError(
            res,
            400,
            'RepositoryNotFoundException',
            `The repository with name '${missing}' does not exist in the registry with id '${registryId}'`,
          );
        }
        return json(res, { repositories: names.map((n) => repository(registryId, region, host, n)) });
      }
      default:
        return jsonError(res, 400, 'UnknownOperationException', `${action} is not served here`);
    }
  }

  private ecrPublic(action: string, res: ServerResponse): void {
    if (action !== 'GetAuthorizationToken') {
      return jsonError(res, 400, 'UnknownOperationException', `${action} is not served here`);
    }
    return json(res, { authorizationData: this.token() });
  }

  /** `base64("AWS:<password>")`, as ECR and ECR Public hand it out; `expiresAt` in epoch seconds. */
  private token(): { authorizationToken: string; expiresAt: number } {
    const password = this.queuedPasswords.shift() ?? this.options.password;
    const lifetime = this.options.tokenLifetimeMs ?? 12 * 3600_000;
    return {
      authorizationToken: Buffer.from(`AWS:${password}`).toString('base64'),
      expiresAt: Math.floor((Date.now() + lifetime) / 1000),
    };
  }
}

function repository(registryId: string, region: string | undefined, host: string, name: string) {
  return {
    repositoryArn: `arn:aws:ecr:${region}:${registryId}:repository/${name}`,
    registryId,
    repositoryName: name,
    repositoryUri: `${host}/${name}`,
    createdAt: Math.floor(Date.now() / 1000),
    imageTagMutability: 'MUTABLE',
  };
}

/** `Credential=<key>/<date>/<region>/<service>/aws4_request` of a SigV4 `Authorization` header. */
function credentialScope(authorization: string | undefined) {
  const m = /Credential=([^/,\s]+)\/\d{8}\/([^/]+)\/([^/]+)\/aws4_request/.exec(authorization ?? '');
  return { accessKeyId: m?.[1], region: m?.[2], signingName: m?.[3] };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function json(res: ServerResponse, value: unknown): void {
  res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' }).end(JSON.stringify(value));
}

function jsonError(res: ServerResponse, status: number, type: string, message: string): void {
  res
    .writeHead(status, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-errortype': type })
    .end(JSON.stringify({ __type: type, message }));
}

function stsError(res: ServerResponse, code: string, message: string): void {
  res
    .writeHead(400, { 'content-type': 'text/xml' })
    .end(
      `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type>` +
        `<Code>${code}</Code><Message>${message}</Message></Error><RequestId>${randomUUID()}</RequestId></ErrorResponse>`,
    );
}
