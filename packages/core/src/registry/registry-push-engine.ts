import { debugLog } from '../debug-log';
import { sessionRegistryCredentials } from '../auth/session-registry-credentials';
import { SdkEcrRepositoryCreator } from '../ecr/aws-clients';
import type { EnginePushResult, PushEngine, PushJob } from '../engine/push-engine';
import { ImageNotFoundError, PushFailedError, RegistryAuthError } from '../errors';
import { EXPLICIT_CREDENTIALS_REFUSED, missingLocalTagAdvice } from '../push-advice';
import type { ImageExporter } from '../image-source/engine-image-source';
import { openImageSource } from '../image-source/open-image-source';
import { isSourceTransport } from '../args/push-args';
import type { TagOutcome } from '../push-result';
import { redact } from '../redact';
import { pushToRegistry, type RegistryPushResult } from './registry-push';
import { LOGIN_ADVICE } from './registry-client';
import { RegistryRequestError } from './registry-errors';

const debug = debugLog('dockpush:registry:engine');

/**
 * The registry engine: dockpush uploads the image itself (`pushToRegistry`: each blob once,
 * then one manifest per tag), from a local image exported by the engine as a stream, a
 * `docker save` archive or an OCI layout. Without a source, each tag is pushed from the local
 * `<repo>:<tag>`, as `docker push` would. It asks the push's credential session for
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
    const exporter: ImageExporter = {
      inspect: async (reference) => (await job.dockerEngine()).inspect(reference, limits),
      export: async (reference) => (await job.dockerEngine()).export(reference, limits),
      store: async (driver) => (await job.dockerEngine()).localStore(limits, driver),
    };
    const images = await imagesToPush(job);
    if (args.keepLocalTags) await tagLocally(job, images);
    // Each image with its tags, one after the other (several only when local tags differ).
    const push = async () => {
      let first: RegistryPushResult | undefined;
      for (const image of images) {
        const result = await pushToRegistry({
          source: openImageSource(image.source, () => exporter),
          repository: { registry: repository.registry, path: repository.path },
          tags: image.tags,
          credentials: sessionRegistryCredentials(resolved.credentials, limits),
          compression: args.compression,
          ...(args.compressionLevel !== undefined ? { compressionLevel: args.compressionLevel } : {}),
          tagsAtOnce: args.concurrency,
          timeoutMs: args.timeout * 1000,
          retries: args.retries,
          signal,
          emit,
          ...(options.env ? { env: options.env } : {}),
        });
        first ??= result;
      }
      return first as RegistryPushResult;
    };
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

/** An image to push, as `openImageSource` names it, and the tags it is pushed as. */
interface ImageToPush {
  source: string;
  tags: string[];
  /** Whether `source` is an image in the Docker engine (not an archive or layout). */
  local: boolean;
}

/**
 * What to push: `source` (a local image, an archive, a layout) or the `image`'s ID as every tag;
 * else, as `docker push` reads them, each tag's local `<repo>:<tag>`. Those are all looked up
 * first: a missing one fails the push before anything is sent, naming every missing tag, and
 * tags of one image are pushed together, from its ID (what was looked up is what is read).
 */
async function imagesToPush(job: PushJob): Promise<ImageToPush[]> {
  const { args, resolved, limits } = job;
  const { tags } = resolved.plan;
  if (args.source !== undefined) return [{ source: args.source, tags, local: !isSourceTransport(args.source) }];
  if (resolved.image?.id) return [{ source: resolved.image.id, tags, local: true }];
  const engine = await job.dockerEngine();
  const found = await Promise.all(
    tags.map((tag) =>
      engine.inspect(resolved.repository.withTag(tag), limits).then(
        (info) => ({ tag, id: info.Id }),
        (error: unknown) => {
          if (error instanceof ImageNotFoundError) return { tag, id: undefined };
          throw error;
        },
      ),
    ),
  );
  const missing = found.filter((f) => !f.id).map((f) => resolved.repository.withTag(f.tag));
  if (missing.length > 0) throw new ImageNotFoundError(missing, missingLocalTagAdvice(missing[0] as string));
  const byImage = new Map<string, string[]>();
  for (const { tag, id } of found) byImage.set(id as string, [...(byImage.get(id as string) ?? []), tag]);
  if (byImage.size > 1) debug('the tags name %d different local images, pushed one after the other', byImage.size);
  return [...byImage].map(([id, tagsOf]) => ({ source: id, tags: tagsOf, local: true }));
}

/**
 * keepLocalTags: the local image is tagged `<repo>:<tag>` for every tag before the push, and the
 * tags are kept whatever its outcome, as the Docker engine leaves them. An image pushed from its
 * own local tags needs none; an archive or layout has no local image (the arguments refuse it).
 */
async function tagLocally(job: PushJob, images: ImageToPush[]): Promise<void> {
  const { args, resolved, limits, emit } = job;
  if (args.source === undefined && !resolved.image?.id) return;
  const engine = await job.dockerEngine();
  for (const image of images.filter((i) => i.local)) {
    const reference = image.source.replace(/^docker-daemon:/, '');
    const { Id } = await engine.inspect(reference, limits, 'Build it first, or check the name given as source.');
    for (const tag of image.tags) {
      await engine.tag(Id, String(resolved.repository), tag, limits);
      emit({ type: 'tagged', source: reference, uri: resolved.repository.withTag(tag) });
    }
  }
}

function skipped(job: PushJob, tag: string, reason: string): TagOutcome {
  return { tag, uri: job.resolved.repository.withTag(tag), status: 'skipped', reason };
}

/** The registry does not know the repository: `NAME_UNKNOWN`, or ECR's `RepositoryNotFoundException`. */
function isRepositoryMissing(error: RegistryRequestError): boolean {
  return /NAME_UNKNOWN|name unknown|RepositoryNotFoundException|does not exist in the registry/i.test(error.message);
}
