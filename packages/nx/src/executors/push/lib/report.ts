import { relative } from 'node:path';
import type { logger } from '@nx/devkit';
import {
  ArgumentsError,
  DockpushError,
  PushCancelledError,
  PushFailedError,
  redact,
  type PushPlan,
  type PushResult,
} from '@dockpush/core';

/** The part of Nx's `logger` the executor speaks through. */
export type ExecutorLogger = Pick<typeof logger, 'info' | 'warn' | 'error'>;

/** Where the image went, each tag's digest, and where the result file is. */
export function reportResult(log: ExecutorLogger, result: PushResult, outputFile: string, workspaceRoot: string): void {
  const count = result.pushed.length;
  log.info(`Pushed ${count} tag${count === 1 ? '' : 's'} of ${result.image.repo}:`);
  const width = Math.max(...result.pushed.map((p) => p.uri.length));
  for (const pushed of result.pushed) log.info(`  ${pushed.uri.padEnd(width)}  ${pushed.digest}`);
  log.info(`Result written to ${displayPath(outputFile, workspaceRoot)}`);
}

/** The plan of a dry run: what would be pushed where, with which credentials. */
export function reportPlan(log: ExecutorLogger, plan: PushPlan, why: string): void {
  log.info(`Dry run (${why}): nothing was pushed and no file was written.`);
  log.info(plan.source ? `Would tag local image ${plan.source} and push it as:` : 'Would push:');
  for (const tag of plan.tags) {
    const rule = plan.tagSources?.[tag];
    log.info(`  ${plan.uri[tag] ?? `${plan.repo}:${tag}`}${rule !== undefined ? `  (from ${rule})` : ''}`);
  }
  log.info(`Registry ${plan.registry}, credentials: ${plan.credentials}`);
}

/**
 * Errors as Nx users read them: a red headline naming the task, then what is wrong and
 * what to do. Option problems name each option; a failed push names each tag.
 */
export function reportError(log: ExecutorLogger, error: unknown, task: string): void {
  if (error instanceof ArgumentsError) {
    const count = error.issues.length;
    log.error(`NX Invalid option${count === 1 ? '' : 's'} for ${task}`);
    for (const issue of error.issues) log.error(`  ✖ ${issue.path ? `${issue.path}: ` : ''}${issue.message}`);
    const option = error.issues[0]?.path.split('.')[0] || 'repo';
    log.error(
      `Fix the target's options (in project.json, or the @dockpush/nx plugin options in nx.json), ` +
        `or override them on the command line: nx run ${task} --${option}=…`,
    );
    return;
  }
  if (error instanceof PushFailedError) {
    log.error(`NX ${task}: push failed`);
    for (const line of error.message.split('\n')) log.error(line);
    return;
  }
  if (error instanceof PushCancelledError) {
    log.error(`NX ${task}: cancelled`);
    for (const line of error.message.split('\n')) log.error(line);
    return;
  }
  if (error instanceof DockpushError) {
    log.error(`NX ${task} failed`);
    log.error(error.message);
    return;
  }
  log.error(`NX ${task} failed unexpectedly`);
  log.error(redact(error instanceof Error ? (error.stack ?? error.message) : String(error)));
}

/** A target with nowhere to push: there is no default registry, so say where to set one. */
export function reportMissingDestination(log: ExecutorLogger, task: string): void {
  log.error(`NX ${task}: no destination`);
  log.error(
    'Set where to push: "repo" in the @dockpush/nx plugin options in nx.json ' +
      '({ "plugin": "@dockpush/nx", "options": { "repo": "registry.example.com/{projectName}" } }), ' +
      `or repo, ecrRepo or image in the target's options in project.json, or run nx run ${task} --repo=<registry>/<name>.`,
  );
}

/**
 * After a missing image: a cacheable build target restored from Nx's cache replays its
 * output but runs no \`docker build\`, so on a fresh machine there is no image to push.
 */
export function reportCachedBuild(log: ExecutorLogger, cachedTargets: string[]): void {
  if (cachedTargets.length === 0) return;
  const names = cachedTargets.join(', ');
  log.error(
    `${names} ${cachedTargets.length === 1 ? 'is' : 'are'} cacheable: a cache hit restores the build's output ` +
      'but leaves no image in the Docker engine. Set "cache": false on the image build target, ' +
      'or run again with --skip-nx-cache.',
  );
}

function displayPath(path: string, workspaceRoot: string): string {
  const rel = relative(workspaceRoot, path);
  return rel && !rel.startsWith('..') ? rel : path;
}
