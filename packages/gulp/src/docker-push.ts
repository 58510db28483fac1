import {
  createProgressRenderer,
  pushImage,
  type PushArgsInput,
  type PushOptions,
  type PushPlan,
  type PushResult,
  isPushPlan,
} from '@dockpush/core';
import { createGulpLog, type GulpLog } from './gulp-log';

/** The push arguments, or a function that makes them when the task runs (e.g. from a version a previous task wrote). */
export type DockerPushArgs = PushArgsInput | (() => PushArgsInput | Promise<PushArgsInput>);

export interface DockerPushTaskOptions {
  /**
   * The task's `displayName`, which gulp registers it under even when exported by another
   * name. Without it, an exported task takes its export's name (`export const push` is
   * `gulp push`), and an unnamed one (`gulp.task(dockerPush(…))`, inside `series`) is
   * `docker-push:<repository>`.
   */
  name?: string;
  /** Shown by `gulp --tasks`. */
  description?: string;
  /** Where log lines go; default gulp's `[HH:MM:SS]` style on stdout. `false` for none. */
  log?: GulpLog | false;
  /** A Docker client, an AbortSignal, fakes for tests… handed to the push. */
  pushOptions?: PushOptions;
}

/** A Gulp 4/5 task: a named async function that resolves to the result (or the plan of a dry run). */
export interface DockerPushTask {
  (): Promise<PushResult | PushPlan>;
  /** Set only when `name` is given: gulp-cli registers an exported task under its displayName. */
  displayName?: string;
  description: string;
}

/**
 * Makes a Gulp task that pushes an image: `export const push = dockerPush({ repo, tags })`.
 * The task logs one line per change, and on failure rejects with core's typed error
 * (`PushFailedError`, `ImageNotFoundError`, …), which gulp reports before exiting non-zero.
 */
export function dockerPush(args: DockerPushArgs, options: DockerPushTaskOptions = {}): DockerPushTask {
  const name = options.name ?? `docker-push${typeof args === 'function' ? '' : `:${describeTarget(args)}`}`;
  const log: GulpLog = options.log === false ? () => {} : (options.log ?? createGulpLog(name));

  const task = async function dockerPush(): Promise<PushResult | PushPlan> {
    const input = typeof args === 'function' ? await args() : args;
    // Lines, not live bars: gulp runs tasks side by side on one terminal.
    const renderer = createProgressRenderer({ mode: 'lines', write: (text) => writeLines(text, log) });
    try {
      const result = await pushImage(input, {
        ...options.pushOptions,
        onProgress: (event) => {
          renderer.onProgress(event);
          options.pushOptions?.onProgress?.(event);
        },
      });
      if (!isPushPlan(result)) {
        log(`pushed ${result.pushed.length} tag${result.pushed.length === 1 ? '' : 's'} of ${result.image.repo}`);
      } else {
        log(
          `dry run: would push ${result.tags.map((t) => result.uri[t]).join(', ')} (credentials: ${result.credentials})`,
        );
      }
      return result;
    } catch (error) {
      throw forGulp(error);
    } finally {
      renderer.close();
    }
  };
  Object.defineProperty(task, 'name', { value: name });
  return Object.assign(task, {
    ...(options.name !== undefined ? { displayName: options.name } : {}),
    description:
      options.description ??
      `Push ${describeTarget(typeof args === 'function' ? {} : args) || 'a Docker image'} with dockpush`,
  });
}

/**
 * gulp-cli prints an error's whole stack unless it looks like a PluginError (a boolean
 * `showStack`): the message says what to do, so the stack is kept for DEBUG runs only.
 */
function forGulp(error: unknown): unknown {
  if (error instanceof Error && !process.env.DEBUG) {
    Object.defineProperty(error, 'showStack', { value: false, enumerable: false, configurable: true });
  }
  return error;
}

function writeLines(text: string, log: GulpLog): void {
  for (const line of text.split('\n')) if (line.trim()) log(line);
}

/** `localhost:5000/app` → `app`, ECR `team/app` → `team/app`: the name a reader knows the image by. */
export function describeTarget(args: Record<string, unknown>): string {
  const ecr = (args.ecrRepo ?? args.ecr_repo) as Record<string, unknown> | undefined;
  const repoName = ecr?.repoName ?? ecr?.repo_name;
  if (typeof repoName === 'string') return repoName;
  if (typeof args.repo === 'string') return withoutRegistry(args.repo);
  if (typeof args.image === 'string') {
    // An image ID names nothing a reader would recognize.
    if (/^(sha256:)?[0-9a-f]{12,64}$/.test(args.image)) return 'image';
    return withoutRegistry(args.image.replace(/:[^/:]*$/, ''));
  }
  return '';
}

function withoutRegistry(reference: string): string {
  const [first, ...rest] = reference.split('/');
  return rest.length > 0 && first !== undefined && /[.:]|^localhost$/.test(first) ? rest.join('/') : reference;
}
