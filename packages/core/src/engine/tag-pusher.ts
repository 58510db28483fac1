import { debugLog } from '../debug-log';
import type { RepositoryReference } from '../args/repository-reference';
import type { CredentialSession } from '../auth/credential-session';
import type { CredentialSource } from '../auth/registry-auth';
import type { EcrRepositoryCreator } from '../ecr/aws-clients';
import { SdkEcrRepositoryCreator } from '../ecr/aws-clients';
import type { EcrRegistry } from '../ecr/ecr-registry';
import { RegistryAuthError } from '../errors';
import { DOCKER_AUTH_CONFIG_REFUSED, EXPLICIT_CREDENTIALS_REFUSED } from '../push-advice';
import type { TagOutcome } from '../push-result';
import type { PushEvent } from '../events';
import { redact } from '../redact';
import { formatDuration, timeoutMsOf } from '../deadline';
import { backoffDelay, sleep as realSleep } from './backoff';
import type { EnginePort } from './engine-port';
import { classifyPushError } from './push-error-kind';
import { EnginePushError, PushStreamParser, readJsonStream } from './push-stream';

const debug = debugLog('dockpush:engine');

export interface TagPusherOptions {
  /** The engine that pushes. */
  engine: EnginePort;
  /** The repository pushed to: its registry and its name there. */
  repository: RepositoryReference;
  ecr: EcrRegistry | undefined;
  createRepository: boolean;
  retries: number;
  /** How long one wait (the engine's answer, silence in the push stream) may last. */
  timeoutMs?: number;
  /** Gives the credentials for the registry, and renews them once after a refusal. */
  credentials: CredentialSession;
  emit: (event: PushEvent) => void;
  signal: AbortSignal | undefined;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  ecrRepositories?: EcrRepositoryCreator;
}

/**
 * Pushes tags of one repository through the engine, one `POST /images/{repo}/push?tag=`
 * per tag, retrying transient failures with backoff, renewing rejected ECR tokens once,
 * and creating a missing ECR repository when asked to.
 */
export class TagPusher {
  /** Where the credentials last sent came from, for the advice when they are refused. */
  private credentialSource: CredentialSource | undefined;
  private repositoryCreated: Promise<void> | undefined;

  constructor(private o: TagPusherOptions) {}

  async push(tag: string): Promise<TagOutcome> {
    const { repository, retries, emit, signal } = this.o;
    const uri = repository.withTag(tag);
    let attempt = 0;
    let authRetried = false;
    let createdRetried = false;
    for (;;) {
      attempt++;
      const started = Date.now();
      emit({ type: 'tag-started', tag, uri, attempt });
      try {
        const { digest, size } = await this.pushOnce(tag);
        emit({ type: 'tag-done', tag, uri, digest, size, durationMs: Date.now() - started });
        return { tag, uri, status: 'pushed', digest, size, attempts: attempt };
      } catch (error) {
        if (error instanceof RegistryAuthError) {
          emit({ type: 'tag-failed', tag, uri, error: error.message });
          throw error;
        }
        const message = redact(errorText(error));
        const kind = error instanceof EnginePushError && error.kind ? error.kind : classifyPushError(message);
        debug('push of %s failed (attempt %d, %s): %s', uri, attempt, kind, message);
        if (signal?.aborted) {
          const text = `${message} (not retried: the push was cancelled)`;
          emit({ type: 'tag-failed', tag, uri, error: text });
          return { tag, uri, status: 'failed', error: text, attempts: attempt };
        }
        if (kind === 'auth' && !authRetried && (await this.o.credentials.refused(this.o.repository.registry))) {
          authRetried = true;
          emit({
            type: 'tag-retrying',
            tag,
            uri,
            attempt,
            delayMs: 0,
            reason: 'the registry rejected the ECR token; renewing it',
          });
          continue;
        }
        if (
          kind === 'repository-missing' &&
          this.o.ecr?.kind === 'private' &&
          this.o.createRepository &&
          !createdRetried
        ) {
          createdRetried = true;
          await this.createRepository(this.o.ecr);
          continue;
        }
        if (kind === 'transient' && attempt <= retries) {
          const delayMs = backoffDelay(attempt);
          emit({ type: 'tag-retrying', tag, uri, attempt, delayMs, reason: message });
          const cancelled = await (this.o.sleep ?? realSleep)(delayMs, signal).then(
            () => false,
            () => true,
          );
          if (cancelled)
            return { tag, uri, status: 'skipped', reason: `cancelled while waiting to retry after: ${message}` };
          continue;
        }
        const advice = adviceFor(kind, this.o, this.credentialSource, attempt);
        if (kind === 'auth') {
          const authError = new RegistryAuthError(this.o.repository.registry, `${message}. ${advice}`, {
            cause: error,
          });
          emit({ type: 'tag-failed', tag, uri, error: authError.message });
          throw authError;
        }
        const text = advice ? `${message}. ${advice}` : message;
        emit({ type: 'tag-failed', tag, uri, error: text });
        return { tag, uri, status: 'failed', error: text, attempts: attempt };
      }
    }
  }

  /**
   * One push through the engine, read to its end. A cancellation does not cut it
   * short: the engine goes on pushing after its client disconnects (seen with Docker
   * 20.10: a manifest held back by the registry still landed seconds after the client
   * had gone), so the only way to report truly what reached the registry is to watch
   * each push in flight finish. Cancelling stops every push not yet started.
   */
  private async pushOnce(tag: string) {
    const authconfig = await this.credentials();
    const timeoutMs = timeoutMsOf(this.o);
    // No cancellation signal here: a push the engine has begun is watched to its end.
    const stream = await this.o.engine.push(String(this.o.repository), tag, authconfig, { timeoutMs });
    const parser = new PushStreamParser(tag, this.o.emit);
    await readJsonStream(stream, (message) => parser.handle(message), {
      idleMs: timeoutMs,
      onIdle: () =>
        new EnginePushError(
          `no progress for ${formatDuration(timeoutMs)} pushing to ${this.o.repository.registry} (the registry, or the engine, stopped answering)`,
          'transient',
        ),
    });
    return parser.finish();
  }

  private async credentials() {
    const { source, authconfig } = await this.o.credentials.credentialsFor(this.o.repository.registry, {
      ...(this.o.timeoutMs !== undefined ? { timeoutMs: this.o.timeoutMs } : {}),
      ...(this.o.signal ? { signal: this.o.signal } : {}),
    });
    this.credentialSource = source;
    return authconfig;
  }

  private createRepository(ecr: Extract<EcrRegistry, { kind: 'private' }>): Promise<void> {
    this.repositoryCreated ??= (this.o.ecrRepositories ?? new SdkEcrRepositoryCreator())
      .createRepository(ecr, this.o.repository.path, {
        timeoutMs: timeoutMsOf(this.o),
        ...(this.o.signal ? { signal: this.o.signal } : {}),
      })
      .then(() => this.o.emit({ type: 'repository-created', repository: String(this.o.repository) }));
    return this.repositoryCreated;
  }
}

function adviceFor(
  kind: ReturnType<typeof classifyPushError>,
  o: TagPusherOptions,
  credentialSource: CredentialSource | undefined,
  attempts: number,
): string {
  const { registry, path } = o.repository;
  switch (kind) {
    case 'auth':
      if (credentialSource === 'explicit') {
        return EXPLICIT_CREDENTIALS_REFUSED;
      }
      if (credentialSource === 'docker-auth-config') return DOCKER_AUTH_CONFIG_REFUSED;
      return o.ecr
        ? 'Check that the AWS credentials may push to this repository (ecr:GetAuthorizationToken and the layer and image actions).'
        : `Give credentials with auth, or run "docker login ${registry}" (dockpush reads the Docker config).`;
    case 'repository-missing':
      return o.ecr?.kind === 'private'
        ? `The ECR repository "${path}" does not exist: create it, or set createRepository: true.`
        : `The repository "${path}" does not exist in ${registry}; create it first.`;
    case 'image-missing':
      return 'Build or tag the image locally first, or give source (--source).';
    case 'transient':
      return (
        (o.retries === 0
          ? `Check that the registry ${registry} is up and reachable from the Docker engine (retries: 0, so it was tried once).`
          : `The registry ${registry} kept failing after ${o.retries} retr${o.retries === 1 ? 'y' : 'ies'}; check that it is up and reachable from the Docker engine.`) +
        // True about who tried what: the engine retries a failed layer upload itself,
        // inside each of dockpush's attempts.
        ` dockpush made ${attempts} attempt${attempts === 1 ? '' : 's'}; the engine also retries each layer upload within an attempt.`
      );
    default:
      return '';
  }
}

function errorText(error: unknown): string {
  if (error instanceof EnginePushError) return error.message;
  const e = error as { message?: string; statusCode?: number; json?: { message?: string }; code?: string };
  const detail = e.json?.message ?? e.message ?? String(error);
  return e.statusCode ? `${detail} (HTTP ${e.statusCode})` : detail;
}
