import { EcrTokenCache } from './auth/ecr-token-cache';
import { StsAccountIdProvider } from './ecr/aws-clients';
import { Redactor } from './redact';
import type { PushPlan } from './plan/resolve-push-plan';
import { planPush, runPush } from './push-image';
import type { PushOptions } from './push-options';
import type { PushResult } from './push-result';

/**
 * Pushes and plans sharing what is worth keeping between pushes (the AWS account found
 * per region, ECR tokens until shortly before they expire, the secrets to redact). Whoever runs several pushes (the CLI, an adapter, a script) makes one and
 * reuses it; options given to a call add to, or replace, those given here.
 */
export interface PushClient {
  /** See `pushImage`. */
  push(input: unknown, options?: PushOptions | null): Promise<PushResult | PushPlan>;
  /** See `resolvePushPlan`. */
  plan(input: unknown, options?: PushOptions | null): Promise<PushPlan>;
}

export function createPushClient(defaults: PushOptions = {}): PushClient {
  const shared: PushOptions = {
    accountIds: new StsAccountIdProvider(),
    ecrTokenCache: new EcrTokenCache(),
    redactor: new Redactor(),
    ...defaults,
  };
  return {
    push: (input, options) => runPush(input, { ...shared, ...options }),
    plan: (input, options) => planPush(input, { ...shared, ...options }),
  };
}

/** The client behind `pushImage` and `resolvePushPlan`, made on first use. */
let processClient: PushClient | undefined;

function defaultClient(): PushClient {
  processClient ??= createPushClient();
  return processClient;
}

/**
 * Pushes an image: validates the arguments, resolves the repository and credentials,
 * retags `source`, pushes each tag (the first alone, the rest together, since their
 * layers are then in the registry), and resolves to the result. A dry run
 * (`dryRun`) resolves to the plan and pushes nothing.
 */
export function pushImage(input: unknown, options: PushOptions | null = {}): Promise<PushResult | PushPlan> {
  return defaultClient().push(input, options);
}

/**
 * Resolves what a push would do (URIs, tags, credential source) without pushing.
 * Touches the engine only to look up an `image` given as a string.
 */
export function resolvePushPlan(input: unknown, options: PushOptions | null = {}): Promise<PushPlan> {
  return defaultClient().plan(input, options);
}
