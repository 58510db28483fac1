import { debugLog } from '../debug-log';
import { sessionRegistryCredentials } from '../auth/session-registry-credentials';
import { SdkEcrRepositoryCreator } from '../ecr/aws-clients';
import type { EnginePushResult, PushEngine, PushJob } from '../engine/push-engine';
import { PushFailedError, RegistryAuthError } from '../errors';
import { EXPLICIT_CREDENTIALS_REFUSED, missingLocalTagAdvice } from '../push-advice';
import type { ImageExporter } from '../image-source/engine-image-source';
import { openImageSource } from '../image-source/open-image-source';
import type { TagOutcome } from '../push-result';
import { redact } from '../redact';
import { pushToRegistry } from './registry-push';
import { LOGIN_ADVICE } from './registry-client';
import { RegistryRequestError } from './registry-errors';

const debug = debugLog('dockpush:registry:engine');

/**
 * The registry engine: dockpush uploads the image itself (`pushToRegistry`: each blob once,
 * then one manifest per tag), from a local image exported by the engine as a stream, a
 * `docker save` archive or an OCI layout. It asks the push's credential session for
 * credentials, creates a missing private ECR repository when asked, and reports one outcome
 * per tag like the Docker engine.
 */
export class RegistryPushEngine implements PushEngine {
  async push(job: PushJob): Promise<EnginePushResult> {
    const { args, resolved, limits, signal, options } = job;
    const { plan, repository } = resolved;
    const done = new Map<string, TagOutcome>();
    const emit: PushJob['emit'] = (event) => {
      if (event.type === 'tag-done') {
        done.set(event.tag, {
          tag: event.tag,
          uri: event.uri,
          status: 'pushed',
          digest: event.digest,
          size: event.size,
          attempts: 1,
        });
      }
      job.emit(event);
    };
    // With no source, the image is read from the local `<repo>:<first tag>`: missing, it wants tagging.
    const localTag = args.source === undefined && !resolved.image ? sourceSpec(job) : undefined;
    const exporter: ImageExporter = {
      inspect: async (reference) =>
        (await job.dockerEngine()).inspect(
          reference,
          limits,
          reference === localTag ? missingLocalTagAdvice(reference) : undefined,
        ),
      export: async (reference) => (await job.dockerEngine()).export(reference, limits),
      store: async (driver) => (await job.dockerEngine()).localStore(limits, driver),
    };
    const source = openImageSource(sourceSpec(job), () => exporter);
    const push = () =>
      pushToRegistry({
        source,
        repository: { registry: repository.registry, path: repository.path },
        tags: plan.tags,
        credentials: sessionRegistryCredentials(resolved.credentials, limits),
        compression: args.compression,
        ...(args.compressionLevel !== undefined ? { compressionLevel: args.compressionLevel } : {}),
        timeoutMs: args.timeout * 1000,
        retries: args.retries,
        signal,
        emit,
        ...(options.env ? { env: options.env } : {}),
      });
    const outcomesAfter = (reason: (tag: string) => TagOutcome): TagOutcome[] =>
      plan.tags.map((tag) => done.get(tag) ?? reason(tag));

    let created = false;
    for (;;) {
      try {
        const result = await push();
        return { imageId: result.imageId, outcomes: outcomesAfter((tag) => skipped(job, tag, 'not attempted')) };
      } catch (error) {
        // First: a cancellation aborts the manifests still being written, which then fail too.
        if (signal.aborted) {
          debug('stopped: %s', (error as Error).message);
          const reason = options.signal?.aborted ? 'cancelled' : 'the onProgress listener threw';
          return { imageId: '', outcomes: outcomesAfter((tag) => skipped(job, tag, reason)) };
        }
        if (error instanceof PushFailedError) {
          // Each tag as the push ended it: pushed, or failed with the registry's error.
          const ended = new Map(error.outcomes.map((o) => [o.tag, o]));
          return {
            imageId: '',
            outcomes: outcomesAfter((tag) => ended.get(tag) ?? skipped(job, tag, 'not attempted')),
          };
        }
        if (error instanceof RegistryAuthError && error.message.endsWith(LOGIN_ADVICE)) {
          // Credentials the caller gave in `auth`: say so, as the Docker engine does.
          if ((await resolved.credentials.sourceFor(repository.registry)) === 'explicit') {
            const prefix = `Cannot authenticate to ${repository.registry}: `;
            const detail = error.message.slice(prefix.length, -LOGIN_ADVICE.length);
            throw new RegistryAuthError(repository.registry, `${detail}${EXPLICIT_CREDENTIALS_REFUSED}`, {
              cause: error,
            });
          }
          throw error;
        }
        if (!(error instanceof RegistryRequestError)) throw error;
        if (isRepositoryMissing(error) && resolved.ecr?.kind === 'private' && args.createRepository && !created) {
          created = true;
          await (options.ecrRepositories ?? new SdkEcrRepositoryCreator()).createRepository(
            resolved.ecr,
            repository.path,
            limits,
          );
          job.emit({ type: 'repository-created', repository: String(repository) });
          continue;
        }
        const advice = isRepositoryMissing(error)
          ? resolved.ecr?.kind === 'private'
            ? ` The ECR repository "${repository.path}" does not exist: create it, or set createRepository: true.`
            : ` The repository "${repository.path}" does not exist in ${repository.registry}; create it first.`
          : '';
        const text = redact(error.message) + advice;
        return {
          imageId: '',
          outcomes: outcomesAfter((tag) => ({
            tag,
            uri: repository.withTag(tag),
            status: 'failed',
            error: text,
            attempts: 1,
          })),
        };
      }
    }
  }
}

/** What to read: `source` (a local image, an archive, a layout); else the `image`; else the local `<repo>:<first tag>`. */
function sourceSpec({ args, resolved }: PushJob): string {
  if (args.source !== undefined) return args.source;
  if (resolved.image)
    return resolved.image.id || resolved.image.uri[resolved.image.tags[0] ?? ''] || resolved.plan.repo;
  return resolved.repository.withTag(resolved.plan.tags[0] ?? 'latest');
}

function skipped(job: PushJob, tag: string, reason: string): TagOutcome {
  return { tag, uri: job.resolved.repository.withTag(tag), status: 'skipped', reason };
}

/** The registry does not know the repository: `NAME_UNKNOWN`, or ECR's `RepositoryNotFoundException`. */
function isRepositoryMissing(error: RegistryRequestError): boolean {
  return /NAME_UNKNOWN|name unknown|RepositoryNotFoundException|does not exist in the registry/i.test(error.message);
}
