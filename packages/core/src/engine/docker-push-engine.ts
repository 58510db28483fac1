import { debugLog } from '../debug-log';
import { mapWithConcurrency } from '../concurrency';
import { ImageNotFoundError } from '../errors';
import { missingLocalTagAdvice } from '../push-advice';
import { LocalTags } from '../image/local-tags';
import type { TagOutcome } from '../push-result';
import type { EnginePort } from './engine-port';
import type { EnginePushResult, PushEngine, PushJob } from './push-engine';
import { TagPusher } from './tag-pusher';

const debug = debugLog('dockpush:push');

/**
 * The Docker engine: tags `source` locally where asked, then one engine push per tag (the
 * first alone, the rest together, since their layers are then in the registry), then removes
 * the local tags it made.
 */
export class DockerPushEngine implements PushEngine {
  async push(job: PushJob): Promise<EnginePushResult> {
    const engine = await job.dockerEngine();
    const localTags = new LocalTags(engine, job.limits);
    try {
      const { imageId, imageOf } = await prepareLocalTags(job, engine, localTags);
      return { imageId, ...(imageOf ? { imageOf } : {}), outcomes: await pushTags(job, engine) };
    } finally {
      // The tags made for `source` were only the means of the push: remove them, pushed or not.
      if (!job.args.keepLocalTags) await localTags.removeAll();
    }
  }
}

/** Pushes each tag and returns every tag's outcome; a cancelled signal starts no new tag. */
async function pushTags(job: PushJob, engine: EnginePort): Promise<TagOutcome[]> {
  const { args, resolved, options, signal, emit } = job;
  const { plan } = resolved;
  const pusher = new TagPusher({
    engine,
    repository: resolved.repository,
    ecr: resolved.ecr,
    createRepository: args.createRepository,
    retries: args.retries,
    timeoutMs: args.timeout * 1000,
    credentials: resolved.credentials,
    emit,
    signal,
    ...(options.sleep ? { sleep: options.sleep } : {}),
    ...(options.ecrRepositories ? { ecrRepositories: options.ecrRepositories } : {}),
  });

  // A cancellation stops the tags not yet started; those in flight are watched to
  // their end (see TagPusher.pushOnce), so the outcomes say what truly landed.
  const outcomes = new Map<string, TagOutcome>();
  const pushTag = async (tag: string): Promise<void> => {
    if (signal.aborted) return;
    outcomes.set(tag, await pusher.push(tag));
  };
  // The first tag uploads the layers; the others then only find them there, so
  // pushing them together costs a manifest each.
  const [first, ...rest] = plan.tags;
  if (first !== undefined) await pushTag(first);
  await mapWithConcurrency(rest, args.concurrency, pushTag);

  return plan.tags.map(
    (tag) =>
      outcomes.get(tag) ?? {
        tag,
        uri: resolved.repository.withTag(tag),
        status: 'skipped',
        reason: options.signal?.aborted
          ? 'cancelled'
          : signal.aborted
            ? 'the onProgress listener threw'
            : 'not attempted',
      },
  );
}

/**
 * Makes sure `<repo>:<tag>` exists locally for every tag before anything is pushed:
 * tags `source` (or the `image`) where asked, and fails with `ImageNotFoundError`
 * naming every missing tag otherwise. Returns the image ID, and each tag's where they differ.
 */
async function prepareLocalTags(
  job: PushJob,
  engine: EnginePort,
  localTags: LocalTags,
): Promise<Pick<EnginePushResult, 'imageId' | 'imageOf'>> {
  const { args, resolved, emit, limits } = job;
  const { plan } = resolved;
  const source = args.source ?? (resolved.image && resolved.image.id ? resolved.image.id : undefined);
  if (source !== undefined) {
    const info = await engine.inspect(source, limits, 'Build it first, or check the name given as source.');
    const local = resolved.image ? new Set(resolved.image.tags) : new Set<string>();
    for (const tag of plan.tags) {
      if (!args.source && local.has(tag)) continue;
      debug('tagging %s as %s', source, resolved.repository.withTag(tag));
      await localTags.tag(info.Id, resolved.repository, tag);
      emit({ type: 'tagged', source, uri: resolved.repository.withTag(tag) });
    }
    return { imageId: info.Id };
  }
  const infos = await Promise.all(
    plan.tags.map((tag) =>
      engine
        .inspect(resolved.repository.withTag(tag), limits)
        .then((info) => ({ tag, info }))
        .catch((error: unknown) => {
          if (error instanceof ImageNotFoundError) return { tag, info: undefined };
          throw error;
        }),
    ),
  );
  const missing = infos.filter((i) => !i.info).map((i) => resolved.repository.withTag(i.tag));
  if (missing.length > 0) {
    throw new ImageNotFoundError(missing, missingLocalTagAdvice(missing[0] as string));
  }
  const imageOf = new Map(infos.map(({ tag, info }) => [tag, info?.Id ?? '']));
  const imageId = infos[0]?.info?.Id ?? '';
  return new Set(imageOf.values()).size > 1 ? { imageId, imageOf } : { imageId };
}
