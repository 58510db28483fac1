import {
  pushImage as corePushImage,
  resolvePushPlan as coreResolvePushPlan,
  type PushArgsInput,
  type PushOptions,
  type PushPlan,
  type PushResult,
} from '@dockpush/core';

/** A Runway `docker.image.push` hook's `ecr_repo`, spelled as Runway spells it. */
export interface RunwayEcrRepo {
  repo_name: string;
  account_id?: string;
  aws_region?: string;
  registry_alias?: string;
}

/** A Runway hook entry's `args` block, verbatim, plus dockpush's own options. */
export type RunwayPushArgs = Omit<PushArgsInput, 'ecrRepo'> & { ecr_repo?: RunwayEcrRepo };

/** The arguments of a push, in the canonical camelCase spelling or in Runway's. */
export type PushImageArgs = PushArgsInput | RunwayPushArgs;

/**
 * What `pushImage` takes besides the arguments: `onProgress` for typed progress events,
 * `signal` to cancel, `docker` for an engine other than `DOCKER_HOST`/the local socket,
 * `env` for a process environment other than `process.env`.
 */
export type PushImageOptions = PushOptions;

/**
 * Pushes a local image: resolves the repository, tags and credentials, pushes each tag
 * and resolves to the result; with `dryRun` it pushes nothing and
 * resolves to the plan. Aborting `signal` starts no new tag, waits for those in flight, and
 * rejects with `PushCancelledError`, whose `outcomes` say which tags had completed. An
 * `onProgress` that throws stops the push the same way (`ProgressListenerError`). When the
 * result cannot be written to `outputFile` after the push, `OutputFileError.result` holds it.
 */
export function pushImage(args: PushImageArgs & { dryRun: true }, options?: PushImageOptions | null): Promise<PushPlan>;
export function pushImage(
  args: PushImageArgs & { dryRun?: false },
  options?: PushImageOptions | null,
): Promise<PushResult>;
export function pushImage(args: PushImageArgs, options?: PushImageOptions | null): Promise<PushResult | PushPlan>;
export function pushImage(args: PushImageArgs, options?: PushImageOptions | null): Promise<PushResult | PushPlan> {
  return corePushImage(args, options ?? {});
}

/** Resolves URIs, tags and where the credentials would come from, without pushing. */
export function resolvePushPlan(args: PushImageArgs, options?: PushImageOptions | null): Promise<PushPlan> {
  return coreResolvePushPlan(args, options ?? {});
}

export { isPushPlan } from '@dockpush/core';
