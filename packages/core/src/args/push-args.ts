import { DEFAULT_TIMEOUT_SECONDS } from '../deadline';
import { ArgumentsError, type ArgumentIssue } from '../errors';
import { parseFlavor, type Flavor } from '../tags/flavor';
import { hasTagPlaceholders, TAG_PLACEHOLDERS } from '../tags/tag-placeholders';
import { parseTagRules, type TagRule } from '../tags/tag-rule';
import { explainInvalidImageReference, explainInvalidRepository, isValidTag } from './reference';
import { describeValue } from './describe-value';
import {
  AUTH_ALIASES,
  type CompressionName,
  ECR_REPO_ALIASES,
  type EngineName,
  TOP_LEVEL_ALIASES,
  TOP_LEVEL_EXTRA_ALIASES,
} from './option-names';
import type { DockerImageLike, EcrRepoArgs, ExplicitAuth, PushArgsInput } from './push-args-model';
import pushArgsJsonSchema from './push-args.schema.json';
import { conformsToSchema } from './schema-check';

/**
 * Arguments as every adapter (Nx, Gulp, Grunt, Node, CLI) passes them to core: checked against
 * the one model (push-args-model.ts) and the rules that span fields, with defaults applied.
 */

export { closest } from './closest-name';
export { COMPRESSIONS, ENGINES, type CompressionName, type EngineName } from './option-names';
export type { DockerImageLike, EcrRepoArgs, ExplicitAuth, PushArgsInput } from './push-args-model';

/** `docker-archive:`, `oci:`, `oci-archive:`: a source that only the registry engine reads. */
const SOURCE_TRANSPORT = /^(docker-archive|oci|oci-archive):/;

/** Whether `source` names an archive or a layout (a transport) rather than a local image. */
export function isSourceTransport(source: string): boolean {
  return SOURCE_TRANSPORT.test(source);
}

/** Where a push goes: exactly one of these. */
export type PushTarget =
  | { kind: 'repo'; repo: string }
  | { kind: 'image'; image: string | DockerImageLike }
  | { kind: 'ecr'; ecrRepo: EcrRepoArgs };

/** Validated arguments with defaults applied. */
export interface PushArgs {
  target: PushTarget;
  /** Tags given explicitly (validated, deduplicated; may hold placeholders); empty when defaults apply. */
  tags: string[];
  /** Parsed tag rules, in priority order; empty when none are given. */
  tagRules: TagRule[];
  flavor: Flavor;
  source?: string;
  auth?: ExplicitAuth;
  dryRun: boolean;
  retries: number;
  concurrency: number;
  createRepository: boolean;
  outputFile?: string;
  keepLocalTags: boolean;
  /** Seconds a single wait may go without an answer or progress. */
  timeout: number;
  /** What uploads the image. */
  engine: EngineName;
  /** Registry engine only: layer compression and gzip level. */
  compression: CompressionName;
  compressionLevel?: number;
}

export const DEFAULT_RETRIES = 3;
export const DEFAULT_CONCURRENCY = 4;

const TARGET_FIELDS = ['ecrRepo', 'image', 'repo'] as const;

/**
 * Validates adapter input (camelCase or Runway snake_case) against every rule of the
 * model. Throws `ArgumentsError` listing each wrong field and the fix.
 */
export function parsePushArgs(input: unknown): PushArgs {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    throw new ArgumentsError(
      `dockpush arguments must be an object such as { repo: "localhost:5000/app", tags: ["1.0.0"] }, got ${describeValue(input)}`,
    );
  }
  const issues: ArgumentIssue[] = [];
  const normalized = canonicalize(
    input as Record<string, unknown>,
    { ...TOP_LEVEL_ALIASES, ...TOP_LEVEL_EXTRA_ALIASES },
    '',
    issues,
  );
  if (isPlainObject(normalized.ecrRepo)) {
    normalized.ecrRepo = canonicalize(normalized.ecrRepo, ECR_REPO_ALIASES, 'ecrRepo', issues);
  }
  if (isPlainObject(normalized.auth)) {
    normalized.auth = canonicalize(normalized.auth, AUTH_ALIASES, 'auth', issues);
  }

  // Valid arguments, the usual case, are known so without zod; anything else is zod's to judge and word.
  const checked = conformsToSchema(pushArgsJsonSchema, normalized)
    ? { data: copyOf(normalized) as PushArgsInput, issues: undefined }
    : checkWithModel(normalized);
  if (checked.issues) issues.push(...checked.issues);
  const data: Partial<PushArgsInput> = checked.data ?? {};
  issues.push(...checkRules(checked.data ?? normalized));
  let tagRules: TagRule[] = [];
  let flavor: Flavor | undefined;
  if (checked.data) {
    tagRules = collectIssues(issues, () => parseTagRules(data.tagRules ?? [])) ?? [];
    flavor = collectIssues(issues, () => parseFlavor(data.flavor ?? []));
  }
  if (issues.length > 0 || !flavor) throw new ArgumentsError(dedupeIssues(issues));

  const target: PushTarget = data.ecrRepo
    ? { kind: 'ecr', ecrRepo: data.ecrRepo }
    : data.image !== undefined
      ? { kind: 'image', image: data.image }
      : { kind: 'repo', repo: data.repo as string };
  return {
    target,
    tags: [...new Set(data.tags ?? [])],
    tagRules,
    flavor,
    ...(data.source !== undefined ? { source: data.source } : {}),
    ...(data.auth !== undefined ? { auth: data.auth } : {}),
    dryRun: data.dryRun ?? false,
    retries: data.retries ?? DEFAULT_RETRIES,
    concurrency: data.concurrency ?? DEFAULT_CONCURRENCY,
    timeout: data.timeout ?? DEFAULT_TIMEOUT_SECONDS,
    createRepository: data.createRepository ?? false,
    ...(data.outputFile !== undefined ? { outputFile: data.outputFile } : {}),
    keepLocalTags: data.keepLocalTags ?? false,
    engine: resolveEngine(data),
    compression: data.compression ?? 'gzip',
    ...(data.compressionLevel !== undefined ? { compressionLevel: data.compressionLevel } : {}),
  };
}

/** The engine asked for; else the registry engine for an archive or layout, which only it reads; else docker. */
function resolveEngine(args: { engine?: unknown; source?: unknown }): EngineName {
  if (args.engine === 'docker' || args.engine === 'registry') return args.engine;
  return typeof args.source === 'string' && isSourceTransport(args.source) ? 'registry' : 'docker';
}

/** Rules that span fields: one target, valid references and tags, options that fit the target. */
function checkRules(args: Record<string, unknown>): ArgumentIssue[] {
  const issues: ArgumentIssue[] = [];
  const given = TARGET_FIELDS.filter((f) => args[f] !== undefined);
  if (given.length === 0) {
    issues.push({
      path: '',
      message:
        'say where to push: give exactly one of ecrRepo (an ECR repository), image (a local image) or repo (a repository URI such as "localhost:5000/app")',
    });
  } else if (given.length > 1) {
    issues.push({
      path: '',
      message: `give exactly one of ecrRepo, image or repo; got ${given.join(' and ')}`,
    });
  }
  if (typeof args.repo === 'string') {
    const why = explainInvalidRepository(args.repo);
    if (why) issues.push({ path: 'repo', message: why });
  }
  // Every reference is checked before the engine sees it: it goes into the engine's URL path.
  for (const field of ['image', 'source'] as const) {
    const value = args[field];
    if (field === 'source' && typeof value === 'string' && isSourceTransport(value)) {
      issues.push(...checkSourceTransport(value, args));
    } else if (typeof value === 'string' && value !== '') {
      const why = explainInvalidImageReference(value);
      if (why) issues.push({ path: field, message: why });
    }
  }
  if (isPlainObject(args.image) && typeof args.image.repo === 'string' && args.image.repo !== '') {
    const why = explainInvalidRepository(args.image.repo);
    if (why) issues.push({ path: 'image.repo', message: why });
  }
  if (isPlainObject(args.image) && typeof args.image.id === 'string' && args.image.id !== '') {
    const why = explainInvalidImageReference(args.image.id);
    if (why) issues.push({ path: 'image.id', message: why });
  }
  if (isPlainObject(args.image) && Array.isArray(args.image.tags)) {
    args.image.tags.forEach((tag, i) => {
      if (typeof tag === 'string' && !isValidTag(tag)) {
        issues.push({ path: `image.tags.${i}`, message: `${JSON.stringify(tag)} is not a valid tag` });
      }
    });
  }
  if (Array.isArray(args.tagRules) && args.tagRules.length === 0) {
    issues.push({ path: 'tagRules', message: 'is empty; leave it out, or give at least one rule such as "type=sha"' });
  }
  if (Array.isArray(args.tags) && args.tags.length === 0) {
    issues.push({
      path: 'tags',
      message:
        'is empty; leave it out for the default (the image\'s own tags, else "latest"), or give at least one tag',
    });
  }
  if (Array.isArray(args.tags)) {
    args.tags.forEach((tag, i) => {
      if (typeof tag === 'string' && hasTagPlaceholders(tag)) {
        const unknown = [...tag.matchAll(/\{([^{}]*)\}/g)]
          .map((m) => m[1] ?? '')
          .filter((name) => !(TAG_PLACEHOLDERS as readonly string[]).includes(name));
        if (unknown.length > 0) {
          issues.push({
            path: `tags.${i}`,
            message: `"${tag}": {${unknown[0] ?? ''}} is not a known placeholder; use ${TAG_PLACEHOLDERS.map((p) => `{${p}}`).join(', ')}`,
          });
        }
      } else if (typeof tag === 'string' && !isValidTag(tag)) {
        issues.push({
          path: `tags.${i}`,
          message: `"${tag}" is not a valid tag: use up to 128 letters, digits, "_", "." and "-", not starting with "." or "-"`,
        });
      }
    });
  }
  if (args.source !== undefined && args.image !== undefined && given.length === 1) {
    issues.push({
      path: 'source',
      message:
        'source goes with repo or ecrRepo (it retags a local image for them); with image, the image itself is pushed',
    });
  }
  if (resolveEngine(args) === 'docker') {
    for (const field of ['compression', 'compressionLevel'] as const) {
      if (args[field] !== undefined) {
        issues.push({
          path: field,
          message: `applies only to the registry engine (the Docker engine compresses layers its own way); add engine: "registry" (--engine registry), or remove ${field}`,
        });
      }
    }
  }
  if (typeof args.source === 'string' && /^oci(-archive)?:/.test(args.source)) {
    const flags = { compression: '--compression', compressionLevel: '--compression-level' } as const;
    for (const field of ['compression', 'compressionLevel'] as const) {
      if (args[field] !== undefined) {
        issues.push({
          path: field,
          message: `does not apply to an OCI layout: its blobs are pushed as they are stored, already compressed (or not) by what wrote them, so the manifest digests stay theirs; remove ${field} (${flags[field]}), or write the layout with the compression you want`,
        });
      }
    }
  }
  const level = args.compressionLevel;
  if (typeof level === 'number') {
    if (args.compression === 'zstd' && level < 1) {
      issues.push({
        path: 'compressionLevel',
        message: `${level} is not a zstd level: give 1 (fastest) to 19 (smallest)`,
      });
    } else if (args.compression !== 'zstd' && level > 9 && level <= 19) {
      // Above 19 the model has said so already.
      issues.push({
        path: 'compressionLevel',
        message: `${level} is not a gzip level: give 0 (store) to 9 (smallest), or add compression: "zstd" for levels up to 19`,
      });
    }
  }
  if (args.keepLocalTags === true && typeof args.source === 'string' && isSourceTransport(args.source)) {
    issues.push({
      path: 'keepLocalTags',
      message: `keeps the local tags <repo>:<tag> made of a local image, and source "${args.source}" is an archive or layout, not in the Docker engine; remove keepLocalTags (--keep-local-tags), or load the image (docker load) and give it as source`,
    });
  }
  if (args.createRepository === true && args.ecrRepo === undefined && args.repo === undefined) {
    issues.push({
      path: 'createRepository',
      message: 'createRepository applies only to ECR repositories (ecrRepo or an ECR repo URI)',
    });
  }
  return issues;
}

/** An archive or layout source: its path is there, and the Docker engine was not asked to read it. */
function checkSourceTransport(source: string, args: Record<string, unknown>): ArgumentIssue[] {
  if (args.engine === 'docker') {
    return [
      {
        path: 'engine',
        message: `the Docker engine pushes only local images, and source "${source}" is an archive or layout; use engine: "registry" (--engine registry), or leave engine out`,
      },
    ];
  }
  // Loaded here: only a push from an archive or layout reads them.
  const { checkImageSourcePath, openImageSource } =
    require('../image-source/open-image-source') as typeof import('../image-source/open-image-source');
  try {
    openImageSource(source, () => {
      throw new Error('a transport source needs no engine');
    });
    checkImageSourcePath(source);
    return [];
  } catch (error) {
    if (error instanceof ArgumentsError) return [...error.issues];
    throw error;
  }
}

/** Runs a parser that throws `ArgumentsError`, moving its issues into `issues`. */
function collectIssues<T>(issues: ArgumentIssue[], parse: () => T): T | undefined {
  try {
    return parse();
  } catch (error) {
    if (error instanceof ArgumentsError) {
      issues.push(...error.issues);
      return undefined;
    }
    throw error;
  }
}

/** Maps snake_case spellings onto camelCase; both at once is an error. */
function canonicalize(
  value: Record<string, unknown>,
  aliases: Record<string, string>,
  prefix: string,
  issues: ArgumentIssue[],
): Record<string, unknown> {
  const out: Record<string, unknown> = { ...value };
  for (const [snake, camel] of Object.entries(aliases)) {
    if (!(snake in value)) continue;
    if (camel in value) {
      issues.push({
        path: join(prefix, camel),
        message: `given twice, as ${snake} and as ${camel}; keep one spelling`,
      });
    }
    out[camel] = value[snake];
    delete out[snake];
  }
  return out;
}

/**
 * A deep copy of arguments that conform to the model (plain objects, arrays, strings, numbers,
 * booleans), as zod's output is one: later changes to the caller's objects change nothing here.
 * Arrays by index and objects by their own keys, as zod reads them.
 */
function copyOf(value: unknown): unknown {
  if (Array.isArray(value)) return Array.from({ length: value.length }, (_, i) => copyOf(value[i]));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, copyOf(item)]));
  }
  return value;
}

/** The model's verdict on `input`. Loads the model, and zod, on first use. */
function checkWithModel(input: Record<string, unknown>): ReturnType<typeof import('./push-args-model').checkModel> {
  return (require('./push-args-model') as typeof import('./push-args-model')).checkModel(input);
}

function dedupeIssues(issues: ArgumentIssue[]): ArgumentIssue[] {
  const seen = new Set<string>();
  return issues.filter((i) => {
    const key = `${i.path}\0${i.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function join(prefix: string, key: string): string {
  return prefix ? `${prefix}.${key}` : key;
}
