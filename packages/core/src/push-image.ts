import { debugLog } from './debug-log';
import { type EngineName, parsePushArgs, type PushArgs } from './args/push-args';
import type { WaitLimits } from './deadline';
import type { DockerEngine } from './engine/docker-engine';
import type { EnginePort } from './engine/engine-port';
import { pingedAlongside } from './engine/pinged-engine';
import type { PushEngine, PushJob } from './engine/push-engine';
import { ProgressListenerError, PushCancelledError, PushFailedError } from './errors';
import type { PushResult, TagOutcome } from './push-result';
import type { PushEvent } from './events';
import { prepareOutputFile, saveResult } from './output/output-file';
import type { PushOptions } from './push-options';
import { type PushPlan, resolvePush, type ResolvedPush } from './plan/resolve-push-plan';
import { redactValue } from './redact';

const debug = debugLog('dockpush:push');

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
    await prepareOutputFile(args.outputFile);
  }
  const limits = waitLimits(args, options);
  const engine = lazyEngine(options, limits);
  return cancellable(
    (async () => {
      const resolved = await resolvePush(args, options, engine, limits);
      if (args.dryRun) {
        // A plan, not a rehearsal: no engine is needed for `repo` or `ecrRepo`, so a dry run
        // works in CI before the image is built, and does not check that it exists locally.
        await saveResult(args.outputFile, resolved.plan);
        return resolved.plan;
      }
      const result = await executePush(args, resolved, engine, options, limits);
      await saveResult(args.outputFile, result);
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
  dockerEngine: () => Promise<EnginePort>,
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
  const job: PushJob = { args, resolved, options, limits, signal, emit, dockerEngine };
  const engineResult = await engineFor(args.engine).push(job);
  const { imageId, imageOf } = engineResult;
  // Each tag that landed says which image it carries, in the result and in an error's outcomes alike.
  const outcomes = engineResult.outcomes.map((o): TagOutcome => {
    if (o.status !== 'pushed') return o;
    const carried = imageOf?.get(o.tag) || imageId || o.imageId;
    return carried ? { ...o, imageId: carried } : o;
  });
  if (listenerError) throw new ProgressListenerError(outcomes, { cause: listenerError.error });
  if (options.signal?.aborted) throw new PushCancelledError(outcomes);
  if (outcomes.some((o) => o.status !== 'pushed')) throw new PushFailedError(outcomes);
  const pushed = outcomes.flatMap((o) =>
    o.status === 'pushed' ? [{ tag: o.tag, uri: o.uri, digest: o.digest, size: o.size, imageId: o.imageId ?? '' }] : [],
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
    engine: args.engine,
  };
}

/**
 * The engine asked for: the Docker engine's push per tag, or dockpush's own upload to the
 * registry. Each is loaded when a push needs it, so that a dry run or the other engine does
 * not pay for its modules at start-up.
 */
function engineFor(name: EngineName): PushEngine {
  if (name === 'registry') {
    const { RegistryPushEngine } =
      require('./registry/registry-push-engine') as typeof import('./registry/registry-push-engine');
    return new RegistryPushEngine();
  }
  const { DockerPushEngine } = require('./engine/docker-push-engine') as typeof import('./engine/docker-push-engine');
  return new DockerPushEngine();
}

function lazyEngine(options: PushOptions, limits: WaitLimits): () => Promise<EnginePort> {
  let ready: Promise<EnginePort> | undefined;
  return () => {
    ready ??= (async () => {
      const { DockerEngine: Engine } = require('./engine/docker-engine') as { DockerEngine: typeof DockerEngine };
      const engine = new Engine({
        ...(options.docker ? { docker: options.docker } : {}),
        ...(options.env ? { env: options.env } : {}),
        limits,
      });
      // The ping goes with the first request where a failed ping can end that request.
      if (engine.endsEveryRequestOnAbort) return pingedAlongside(engine, limits);
      await engine.ping(limits);
      return engine;
    })();
    return ready;
  };
}
