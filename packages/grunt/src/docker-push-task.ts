import {
  ArgumentsError,
  createProgressRenderer,
  pushImage,
  type PushOptions,
  type PushPlan,
  type PushResult,
  isPushPlan,
} from '@dockpush/core';
import type { GruntLike, GruntTaskContext } from './grunt-types';

export const TASK_NAME = 'dockerPush';

export interface DockerPushTaskDependencies {
  /** The push; core's `pushImage` by default. */
  push?: (args: unknown, options: PushOptions) => Promise<PushResult | PushPlan>;
  /** A Docker client, fakes for tests… handed to the push. */
  pushOptions?: PushOptions;
}

/**
 * Registers the multi-task `dockerPush`. Each target's `options` (over the task-level
 * `options`, merged as Grunt merges them) is dockpush's argument model:
 *
 *   grunt.initConfig({ dockerPush: { app: { options: { repo: 'localhost:5000/app', tags: ['1.0.0'] } } } });
 *
 * Grunt's `--no-write` (its dry run) turns on `dryRun`. A failure ends the task with
 * `done(error)`, so Grunt stops unless run with `--force`.
 */
export function registerDockerPushTask(grunt: GruntLike, deps: DockerPushTaskDependencies = {}): void {
  const push = deps.push ?? pushImage;
  grunt.registerMultiTask(
    TASK_NAME,
    'Push Docker images to a registry or AWS ECR (dockpush)',
    function (this: GruntTaskContext) {
      const done = this.async();
      const target = this.target;
      const run = async () => {
        const misplaced = misplacedKeys(this.data);
        if (misplaced.length > 0) {
          throw new ArgumentsError(
            misplaced.map((key) => ({
              path: `${TASK_NAME}.${target}.${key}`,
              message: `push arguments go under ${TASK_NAME}.${target}.options: move ${key} there`,
            })),
          );
        }
        const options: Record<string, unknown> = { ...this.options<Record<string, unknown>>() };
        if (grunt.option('write') === false) options.dryRun = true;

        const renderer = createProgressRenderer({
          mode: 'lines',
          write: (text) => {
            for (const line of text.split('\n')) if (line.trim()) grunt.log.writeln(line);
          },
        });
        try {
          return await push(options, {
            ...deps.pushOptions,
            onProgress: (event) => {
              renderer.onProgress(event);
              deps.pushOptions?.onProgress?.(event);
            },
          });
        } finally {
          renderer.close();
        }
      };
      run().then(
        (result) => {
          if (!isPushPlan(result)) {
            grunt.log.ok(`Pushed ${result.pushed.map((p) => `${p.uri}@${p.digest}`).join(', ')}`);
          } else {
            grunt.log.ok(
              `Dry run: would push ${result.tags.map((t) => result.uri[t]).join(', ')} (credentials: ${result.credentials})`,
            );
          }
          done();
        },
        (error: unknown) => done(error instanceof Error ? error : new Error(String(error))),
      );
    },
  );
}

/** Push arguments written beside `options` instead of in it (a Grunt target's data is for files). */
function misplacedKeys(data: unknown): string[] {
  if (data === null || typeof data !== 'object' || Array.isArray(data)) return [];
  return Object.keys(data).filter((key) => key !== 'options');
}
