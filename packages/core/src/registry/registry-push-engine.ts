import { formatDuration, readWithDeadline, timeoutMsOf } from '../deadline';
import { debugLog } from '../debug-log';
import { sessionRegistryCredentials } from '../auth/session-registry-credentials';
import { SdkEcrRepositoryCreator } from '../ecr/aws-clients';
import type { EnginePushResult, PushEngine, PushJob } from '../engine/push-engine';
import { ImageNotFoundError, PushFailedError, RegistryAuthError } from '../errors';
import { DOCKER_AUTH_CONFIG_REFUSED, EXPLICIT_CREDENTIALS_REFUSED, missingLocalTagAdvice } from '../push-advice';
import type { ImageExporter } from '../image-source/engine-image-source';
import { ImageSourceError } from '../image-source/image-source-error';
import { openImageSource } from '../image-source/open-image-source';
import { isSourceTransport } from '../args/push-args';
import type { TagOutcome } from '../push-result';
import { redact } from '../redact';
import { pushToRegistry } from './registry-push';
import { LOGIN_ADVICE } from './registry-client';
import { PushTimeLimitError, RegistryRequestError } from './registry-errors';

const debug = debugLog('dockpush:registry:engine');

/** The bound on a whole push, every image's upload included; each request has its own `timeout`. */
const TOTAL_TIME_MS = 30 * 60_000;

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
    const { args, resolved, signal, options } = job;
    const { plan } = resolved;
    // What the registry holds for each tag, as the push goes: a tag is recorded as it lands.
    const ended = new Map<string, TagOutcome>();
    const emit: PushJob['emit'] = (event) => {
      if (event.type === 'tag-done') {
        ended.set(event.tag, {
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
    const totalTime = AbortSignal.timeout(TOTAL_TIME_MS);
    let images = await imagesToPush(job);
    if (args.keepLocalTags) images = await tagLocally(job, images);
    // Each image with its tags, one after the other (several only when the local tags differ):
    // one that fails leaves the others to go, as the Docker engine pushes each tag on its own.
    let imageId = '';
    const imageOf = new Map<string, string>();
    for (const image of images) {
      if (signal.aborted || totalTime.aborted) break;
      const landed = [...ended.values()].some((outcome) => outcome.status === 'pushed');
      const pushed = await pushImageTags(job, image, emit, landed, totalTime);
      for (const outcome of pushed.outcomes) if (!ended.has(outcome.tag)) ended.set(outcome.tag, outcome);
      imageId ||= pushed.imageId;
      for (const tag of image.tags) imageOf.set(tag, pushed.imageId || image.source);
    }
    const reason = options.signal?.aborted
      ? 'cancelled'
      : signal.aborted
        ? 'the onProgress listener threw'
        : totalTime.aborted
          ? `not attempted: ${new PushTimeLimitError(resolved.repository.registry, resolved.repository.path, TOTAL_TIME_MS).message}`
          : 'not attempted';
    return {
      imageId,
      ...(images.length > 1 ? { imageOf } : {}),
      outcomes: plan.tags.map((tag) => ended.get(tag) ?? skipped(job, tag, reason)),
    };
  }
}

/**
 * Pushes one image as its tags: the outcome of each tag it attempted (those that landed are
 * reported by `emit` as they do). Credentials refused, or an error that is not the registry's,
 * fail the whole push while nothing has landed; once something has (`landed`), they fail only
 * this image's tags, so the report keeps what is in the registry.
 */
async function pushImageTags(
  job: PushJob,
  image: ImageToPush,
  emit: PushJob['emit'],
  landed: boolean,
  totalTime: AbortSignal,
): Promise<{ imageId: string; outcomes: TagOutcome[] }> {
  const { args, resolved, limits, signal, options } = job;
  const { repository } = resolved;
  const exporter: ImageExporter = {
    inspect: async (reference) => (await job.dockerEngine()).inspect(reference, limits),
    // An export that stops mid-way fails after one `timeout` of the reader waiting on it.
    export: async (reference) =>
      readWithDeadline(
        await (await job.dockerEngine()).export(reference, limits),
        timeoutMsOf(limits),
        () =>
          new ImageSourceError(
            reference,
            `the Docker engine sent nothing more of its export for ${formatDuration(timeoutMsOf(limits))}: it may be stuck or overloaded; allow it longer with timeout (--timeout)`,
          ),
        limits.signal,
      ),
    store: async (driver) => (await job.dockerEngine()).localStore(limits, driver),
    notice: (message) => job.emit({ type: 'notice', message }),
  };
  const failed = (error: unknown): TagOutcome[] =>
    image.tags.map((tag) => ({
      tag,
      uri: repository.withTag(tag),
      status: 'failed',
      error: redact((error as Error).message),
      attempts: 1,
    }));
  /** The tags as the push ended them, with what to do when its bound ran out. */
  const ended = (outcomes: TagOutcome[]): TagOutcome[] =>
    totalTime.aborted && !options.signal?.aborted
      ? outcomes.map((o) => (o.status === 'failed' ? { ...o, error: o.error + timeLimitAdvice(image) } : o))
      : outcomes;
  let created = false;
  for (;;) {
    try {
      const result = await pushToRegistry({
        source: openImageSource(image.source, () => exporter),
        repository: { registry: repository.registry, path: repository.path },
        tags: image.tags,
        credentials: sessionRegistryCredentials(resolved.credentials, limits),
        compression: args.compression,
        ...(args.compressionLevel !== undefined ? { compressionLevel: args.compressionLevel } : {}),
        tagsAtOnce: args.concurrency,
        timeoutMs: args.timeout * 1000,
        totalTime,
        totalTimeoutMs: TOTAL_TIME_MS,
        retries: args.retries,
        signal,
        emit,
        ...(options.env ? { env: options.env } : {}),
      });
      return { imageId: result.imageId, outcomes: [] };
    } catch (error) {
      // Cancelled: the tags whose manifests were sent end as they did; the rest are skipped.
      if (signal.aborted) {
        debug('stopped: %s', (error as Error).message);
        return { imageId: '', outcomes: error instanceof PushFailedError ? error.outcomes : [] };
      }
      // Each tag as the push ended it: pushed, or failed with the registry's error.
      if (error instanceof PushFailedError) {
        // Some tags may have landed: they say which image they carry.
        return { imageId: error.pushed.find((o) => o.imageId)?.imageId ?? '', outcomes: ended(error.outcomes) };
      }
      if (error instanceof PushTimeLimitError) return { imageId: '', outcomes: ended(failed(error)) };
      if (error instanceof RegistryAuthError && error.message.endsWith(LOGIN_ADVICE)) {
        // Credentials from `auth` or DOCKER_AUTH_CONFIG: say where, as the Docker engine does.
        let refused: RegistryAuthError = error;
        const source = await resolved.credentials.sourceFor(repository.registry);
        const advice =
          source === 'explicit'
            ? EXPLICIT_CREDENTIALS_REFUSED
            : source === 'docker-auth-config'
              ? DOCKER_AUTH_CONFIG_REFUSED
              : undefined;
        if (advice) {
          const prefix = `Cannot authenticate to ${repository.registry}: `;
          const detail = error.message.slice(prefix.length, -LOGIN_ADVICE.length);
          refused = new RegistryAuthError(repository.registry, `${detail}${advice}`, { cause: error });
        }
        if (landed) return { imageId: '', outcomes: failed(refused) };
        throw refused;
      }
      if (!(error instanceof RegistryRequestError)) {
        if (landed) return { imageId: '', outcomes: failed(error) };
        throw error;
      }
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
      return { imageId: '', outcomes: failed(new Error(redact(error.message) + advice)) };
    }
  }
}

/** What a user can do when the registry engine's bound on a whole push ran out. */
function timeLimitAdvice(image: ImageToPush): string {
  const how = image.local
    ? 'This image'
    : `Load it into the Docker engine (\`docker load -i\` for a docker-archive, \`skopeo copy ${image.source} docker-daemon:NAME:TAG\` for any), then it`;
  return `. ${how} can go through the Docker engine instead (engine: "docker", CLI --engine docker), which bounds each wait only, not the whole push.`;
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
 * tags are kept whatever its outcome, as the Docker engine leaves them; the push then reads the
 * image by the ID it tagged, so both are the same image. An image pushed from its own local tags
 * needs none; an archive or layout has no local image (the arguments refuse it).
 */
async function tagLocally(job: PushJob, images: ImageToPush[]): Promise<ImageToPush[]> {
  const { args, resolved, limits, emit } = job;
  if (args.source === undefined && !resolved.image?.id) return images;
  const engine = await job.dockerEngine();
  const tagged: ImageToPush[] = [];
  for (const image of images) {
    if (!image.local) {
      tagged.push(image);
      continue;
    }
    const reference = image.source.replace(/^docker-daemon:/, '');
    const { Id } = await engine.inspect(reference, limits, 'Build it first, or check the name given as source.');
    for (const tag of image.tags) {
      await engine.tag(Id, String(resolved.repository), tag, limits);
      emit({ type: 'tagged', source: reference, uri: resolved.repository.withTag(tag) });
    }
    tagged.push({ ...image, source: Id });
  }
  return tagged;
}

function skipped(job: PushJob, tag: string, reason: string): TagOutcome {
  return { tag, uri: job.resolved.repository.withTag(tag), status: 'skipped', reason };
}

/** The registry does not know the repository: `NAME_UNKNOWN`, or ECR's `RepositoryNotFoundException`. */
function isRepositoryMissing(error: RegistryRequestError): boolean {
  return /NAME_UNKNOWN|name unknown|RepositoryNotFoundException|does not exist in the registry/i.test(error.message);
}
