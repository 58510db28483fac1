import type { TargetConfiguration } from '@nx/devkit';
import { IMAGE_BUILD_TARGETS } from './target-defaults';

/** A project's image build: the target that builds it, and the local image it makes when that is known. */
export interface ImageBuild {
  target: string;
  /** The local reference the build tags (`docker build -t app:dev` → `app:dev`). */
  image?: string;
}

/** What is known of a project without running Nx's project graph. */
export interface ImageBuildContext {
  projectRoot: string;
  /** Targets written in project.json (or package.json `nx.targets`). */
  targets: Record<string, TargetConfiguration>;
  /** nx.json `plugins`. */
  plugins: readonly (string | { plugin: string; options?: unknown })[];
  /** Whether the project root holds a Dockerfile. */
  hasDockerfile: boolean;
  /** Target names to look for first (default `docker-build`, `docker:build`). */
  candidates?: readonly string[];
}

const NX_DOCKER_PLUGIN = '@nx/docker';
const NX_DOCKER_BUILD_TARGET = 'docker:build';
const IMAGE_BUILD_COMMAND = /\b(docker|podman)\s+(buildx\s+)?build\b|\bbuildah\s+(bud|build)\b/;

/**
 * The target that builds the project's image, in this order: a written target named as a
 * candidate, a written target whose command or executor builds an image, then the build
 * target the `@nx/docker` plugin infers for a project with a Dockerfile (its image is the
 * project root with `/` as `-`: `apps-web` for `apps/web`). Undefined when there is none.
 */
export function findImageBuild(context: ImageBuildContext): ImageBuild | undefined {
  const { targets } = context;
  const candidates = context.candidates ?? IMAGE_BUILD_TARGETS;
  const byName = candidates.find((name) => targets[name]);
  const written = byName ?? Object.entries(targets).find(([, t]) => buildsImage(t))?.[0];
  const nxDocker = context.hasDockerfile ? nxDockerBuild(context) : undefined;
  if (written) {
    const image = imageTagOf(targets[written] as TargetConfiguration);
    // project.json may name @nx/docker's inferred target only to add options to it.
    if (!image && nxDocker?.target === written) return nxDocker;
    return image ? { target: written, image } : { target: written };
  }
  return nxDocker;
}

/** The build target the `@nx/docker` plugin infers, when nx.json registers it. */
function nxDockerBuild(context: ImageBuildContext): ImageBuild | undefined {
  const nxDocker = context.plugins.find((p) => (typeof p === 'string' ? p : p.plugin) === NX_DOCKER_PLUGIN);
  if (!nxDocker) return undefined;
  const buildTarget =
    typeof nxDocker === 'string' ? undefined : (nxDocker.options as { buildTarget?: unknown } | undefined)?.buildTarget;
  const name =
    typeof buildTarget === 'string'
      ? buildTarget
      : typeof (buildTarget as { name?: unknown } | undefined)?.name === 'string'
        ? (buildTarget as { name: string }).name
        : NX_DOCKER_BUILD_TARGET;
  const args = (buildTarget as { args?: unknown } | undefined)?.args;
  const extraTag = Array.isArray(args) ? tagIn(args.filter((a) => typeof a === 'string').join(' ')) : undefined;
  return { target: name, image: extraTag ?? nxDockerImageName(context.projectRoot) };
}

/**
 * `@nx/docker`'s image name for a project: its root with separators as `-`, lowercase, its
 * last 128 characters (the tag it gives the image it builds).
 */
export function nxDockerImageName(projectRoot: string): string {
  const name = projectRoot
    .replace(/^[\\/]/, '')
    .replace(/[\\/\s]+/g, '-')
    .toLowerCase();
  return name.length > 128 ? name.slice(-128) : name;
}

/**
 * The tag a build target gives the image: `-t`/`--tag` of its `docker build` command
 * (or of its `args`), else its executor's `tags`, `tag` or `imageRef` option.
 */
export function imageTagOf(target: TargetConfiguration): string | undefined {
  const options = (target.options ?? {}) as Record<string, unknown>;
  for (const text of commandsOf(target)) {
    if (!IMAGE_BUILD_COMMAND.test(text)) continue;
    const tag = tagIn(` ${text} ${Array.isArray(options.args) ? options.args.join(' ') : ''}`);
    if (tag) return tag;
  }
  if (target.executor) {
    const tags = options.tags;
    const first = Array.isArray(tags) ? tags.find((t) => typeof t === 'string') : undefined;
    for (const value of [first, options.tag, options.imageRef]) {
      if (typeof value === 'string' && usable(value)) return value;
    }
  }
  return undefined;
}

/** Whether a target builds an image: by its executor's name or its command. */
export function buildsImage(target: TargetConfiguration): boolean {
  if (target.executor && /(docker|container|podman)/.test(target.executor) && /build/.test(target.executor)) {
    return true;
  }
  return commandsOf(target).some((text) => IMAGE_BUILD_COMMAND.test(text));
}

function commandsOf(target: TargetConfiguration): string[] {
  const options = (target.options ?? {}) as { command?: unknown; commands?: unknown };
  const commands = [target.command, options.command, ...(Array.isArray(options.commands) ? options.commands : [])];
  return commands
    .map((c) => (typeof c === 'string' ? c : (c as { command?: unknown } | undefined)?.command))
    .filter((c): c is string => typeof c === 'string');
}

function tagIn(text: string): string | undefined {
  const tag = /(?:\s-t|\s--tag)[\s=]+["']?([^\s"']+)/.exec(` ${text}`)?.[1];
  return tag && usable(tag) ? tag : undefined;
}

/** A tag still holding a shell variable or an unknown token cannot be resolved here. */
function usable(tag: string): boolean {
  return !tag.includes('$') && !/\{(?!projectName\}|projectRoot\})[^}]*\}/.test(tag);
}
