import createDebug from 'debug';
import { parsePushArgs, type PushArgs } from './args/push-args';
import { mapWithConcurrency } from './concurrency';
import type { WaitLimits } from './deadline';
import { DockerEngine } from './engine/docker-engine';
import type { EnginePort } from './engine/engine-port';
import { TagPusher } from './engine/tag-pusher';
import {
  ImageNotFoundError,
  OutputFileError,
  ProgressListenerError,
  PushCancelledError,
  PushFailedError,
} from './errors';
import type { PushResult, TagOutcome } from './push-result';
import type { PushEvent } from './events';
import { LocalTags } from './image/local-tags';
import { checkOutputFile, clearOutputFile, writeOutputFile } from './output/output-file';
import type { PushOptions } from './push-options';
import { type PushPlan, resolvePush, type ResolvedPush } from './plan/resolve-push-plan';
import { redactValue } from './redact';

const debug = createDebug('dockpush:push');

/**
 * Resolves what a push would do (URIs, tags, credential source) without pushing.
 * Touches the engine only to look up an `image` given as a string.
 */
export async function planPush(input: unknown, options: PushOptions): Promise<PushPlan> {
  const args = parsePushArgs(input);
  const limits = waitLimits(args, options);
  const engine = lazyEngine(options, limits);
  return (await cancellable(resolvePush(args, options, engine, limits), limits)).plan;
}

/**
 * Pushes an image: validates the arguments, resolves the repository and credentials,
 * retags `source`, pushes each tag (the first alone, the rest together, since their
 * layers are then in the registry), and resolves to the result. A dry run
 * (`dryRun`) resolves to the plan and pushes nothing.
 */
export async function runPush(input: unknown, options: PushOptions): Promise<PushResult | PushPlan> {
  const args = parsePushArgs(input);
  // Cancelled before it began: touch nothing, not even the engine.
  if (options.signal?.aborted && !args.dryRun) throw new PushCancelledError([]);
  if (args.outputFile !== undefined) {
    // Checked before anything is pushed; the previous run's result goes, so that a failed
    // push never leaves a file that looks current.
    await checkOutputFile(args.outputFile);
    await clearOutputFile(args.outputFile);
  }
  const limits = waitLimits(args, options);
  const engine = lazyEngine(options, limits);
  return cancellable(
    (async () => {
      const resolved = await resolvePush(args, options, engine, limits);
      if (args.dryRun) {
        // A plan, not a rehearsal: no engine is needed for `repo` or `ecrRepo`, so a dry run
        // works in CI before the image is built, and does not check that it exists locally.
        await saveResult(args, resolved.plan);
        return resolved.plan;
      }
      const result = await executePush(args, resolved, await engine(), options, limits);
      await saveResult(args, result);
      return result;
    })(),
    limits,
  );
}

function waitLimits(args: PushArgs, options: PushOptions): WaitLimits {
  return { timeoutMs: args.timeout * 1000, ...(options.signal ? { signal: options.signal } : {}) };
}

/**
 * A wait cut short by a cancellation (a credential lookup, the engine's ping) surfaces
 * as `PushCancelledError`, like a cancellation between tags.
 */
async function cancellable<T>(work: Promise<T>, limits: WaitLimits): Promise<T> {
  try {
    return await work;
  } catch (error) {
    if (limits.signal?.aborted && !(error instanceof PushCancelledError) && !(error instanceof PushFailedError)) {
      debug('cancelled: %s', (error as Error)?.message);
      throw new PushCancelledError([]);
    }
    throw error;
  }
}

async function executePush(
  args: PushArgs,
  resolved: ResolvedPush,
  engine: EnginePort,
  options: PushOptions,
  limits: WaitLimits,
): Promise<PushResult> {
  const { plan } = resolved;
  // A listener that throws stops the push like a cancellation: no new tag, those in
  // flight finish, and the outcomes are reported.
  const stop = new AbortController();
  let listenerError: { error: unknown } | undefined;
  const signal = options.signal ? AbortSignal.any([options.signal, stop.signal]) : stop.signal;
  const listenerFailed = (error: unknown) => {
    if (listenerError) return;
    listenerError = { error };
    debug('onProgress threw: %s', (error as Error)?.message ?? String(error));
    stop.abort(error);
  };
  const emit = (event: PushEvent) => {
    if (!options.onProgress || listenerError) return;
    try {
      // An async listener's rejection counts as a throw: never an unhandled rejection.
      const returned: unknown = options.onProgress(redactValue(event));
      if (returned instanceof Promise) returned.catch(listenerFailed);
    } catch (error) {
      listenerFailed(error);
    }
  };

  // Cancelled while the plan and credentials were resolved: tag nothing, push nothing.
  if (options.signal?.aborted) {
    throw new PushCancelledError(
      plan.tags.map((tag) => ({
        tag,
        uri: resolved.repository.withTag(tag),
        status: 'skipped',
        reason: 'cancelled',
      })),
    );
  }
  const localTags = new LocalTags(engine, limits);
  let imageId = '';
  try {
    imageId = await prepareLocalTags(args, resolved, engine, localTags, emit, limits);
    const outcomes = await pushTags(args, resolved, engine, emit, signal, options);
    if (listenerError) throw new ProgressListenerError(outcomes, { cause: listenerError.error });
    if (options.signal?.aborted) throw new PushCancelledError(outcomes);
    if (outcomes.some((o) => o.status !== 'pushed')) throw new PushFailedError(outcomes);
    const pushed = outcomes.flatMap((o) =>
      o.status === 'pushed' ? [{ tag: o.tag, uri: o.uri, digest: o.digest, size: o.size }] : [],
    );
    const imageTags = resolved.image ? [...new Set([...resolved.image.tags, ...plan.tags])] : plan.tags;
    const tags = args.tags.length > 0 ? plan.tags : imageTags;
    return {
      image: {
        id: imageId,
        repo: plan.repo,
        tags,
        uri: Object.fromEntries(tags.map((t) => [t, resolved.repository.withTag(t)])),
      },
      pushed,
    };
  } finally {
    // The tags made for `source` were only the means of the push: remove them, pushed or not.
    if (!args.keepLocalTags) await localTags.removeAll();
  }
}

/** Pushes each tag and returns every tag's outcome; a cancelled signal starts no new tag. */
async function pushTags(
  args: PushArgs,
  resolved: ResolvedPush,
  engine: EnginePort,
  emit: (event: PushEvent) => void,
  signal: AbortSignal,
  options: PushOptions,
): Promise<TagOutcome[]> {
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
 * naming every missing tag otherwise. Returns the image ID.
 */
async function prepareLocalTags(
  args: PushArgs,
  resolved: ResolvedPush,
  engine: EnginePort,
  localTags: LocalTags,
  emit: (event: PushEvent) => void,
  limits: WaitLimits,
): Promise<string> {
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
    return info.Id;
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
    throw new ImageNotFoundError(
      missing,
      `Nothing was pushed. Tag the image first (docker tag <image> ${missing[0]}), or give source (--source) to have dockpush tag it.`,
    );
  }
  return infos[0]?.info?.Id ?? '';
}

/** The Docker engine, pinged on first use: a push that needs no engine never touches it. */
function lazyEngine(options: PushOptions, limits: WaitLimits): () => Promise<EnginePort> {
  let ready: Promise<EnginePort> | undefined;
  return () => {
    ready ??= (async () => {
      const engine = new DockerEngine({
        ...(options.docker ? { docker: options.docker } : {}),
        ...(options.env ? { env: options.env } : {}),
        limits,
      });
      await engine.ping(limits);
      return engine;
    })();
    return ready;
  };
}

/** Writes the result file when one is asked for; a failure still hands the result over. */
async function saveResult(args: PushArgs, value: PushResult | PushPlan): Promise<void> {
  if (args.outputFile === undefined) return;
  try {
    await writeOutputFile(args.outputFile, value);
  } catch (error) {
    const e = error as NodeJS.ErrnoException;
    throw new OutputFileError(args.outputFile, redactValue(value), e.code ?? e.message, { cause: error });
  }
}
