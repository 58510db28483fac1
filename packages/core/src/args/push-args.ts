import { z } from 'zod';
import { DEFAULT_TIMEOUT_SECONDS } from '../deadline';
import { ArgumentsError, type ArgumentIssue } from '../errors';
import { parseFlavor, type Flavor } from '../tags/flavor';
import { hasTagPlaceholders, TAG_PLACEHOLDERS } from '../tags/tag-placeholders';
import { parseTagRules, type TagRule } from '../tags/tag-rule';
import { checkImageSourcePath, openImageSource } from '../image-source/open-image-source';
import { explainInvalidImageReference, explainInvalidRepository, isValidTag } from './reference';

/**
 * The one argument model of dockpush. Every adapter (Nx, Gulp, Grunt, Node, CLI) passes
 * its options through `parsePushArgs`; Nx's schema.json is generated from `pushArgsSchema`.
 */

const AWS_REGION_RE = /^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d+$/;
/** ECR Public's registry alias grammar (its CreateRegistry/PutRegistryCatalogData rules). */
const ECR_PUBLIC_ALIAS_RE = /^(?=.{2,50}$)[a-z][a-z0-9]*(?:[._-][a-z0-9]+)*$/;

export const ecrRepoSchema = z
  .strictObject({
    repoName: z.string().min(1).describe('Name of the ECR repository, e.g. "team/app".'),
    accountId: z
      .string()
      .regex(/^\d{12}$/, 'must be a 12-digit AWS account ID, e.g. "123456789012"')
      .optional()
      .describe('AWS account ID of a private repository; discovered with STS GetCallerIdentity when omitted.'),
    awsRegion: z
      .string()
      .regex(AWS_REGION_RE, 'must be an AWS region such as "us-east-1"')
      .optional()
      .describe(
        'AWS region of a private repository; taken from AWS_REGION, AWS_DEFAULT_REGION or the profile when omitted.',
      ),
    registryAlias: z
      .string()
      .regex(
        ECR_PUBLIC_ALIAS_RE,
        'must be an ECR Public registry alias: 2 to 50 lowercase letters, digits and separators (. _ -), starting with a letter, e.g. "myalias"',
      )
      .optional()
      .describe('ECR Public registry alias: pushes to public.ecr.aws/<alias>/<repoName>.'),
  })
  .describe('An AWS ECR repository (private, or ECR Public with registryAlias).');

export const dockerImageSchema = z
  .object({
    id: z.string().optional(),
    repo: z.string().min(1),
    tags: z.array(z.string()),
    uri: z.record(z.string(), z.string()).optional(),
  })
  .describe('A DockerImage: its repository and tags.');

export const authSchema = z
  .union([
    z.strictObject({ username: z.string().min(1), password: z.string().min(1) }),
    z.strictObject({ identityToken: z.string().min(1) }),
  ])
  .describe('Explicit registry credentials: { username, password } or { identityToken }. Beats discovery.');

/** What uploads the image: the Docker engine, or dockpush itself over the registry API. */
export const ENGINES = ['docker', 'registry'] as const;
export type EngineName = (typeof ENGINES)[number];
export const COMPRESSIONS = ['gzip', 'zstd'] as const;
export type CompressionName = (typeof COMPRESSIONS)[number];

/** `docker-archive:`, `oci:`, `oci-archive:`: a source that only the registry engine reads. */
const SOURCE_TRANSPORT = /^(docker-archive|oci|oci-archive):/;

/** Whether `source` names an archive or a layout (a transport) rather than a local image. */
export function isSourceTransport(source: string): boolean {
  return SOURCE_TRANSPORT.test(source);
}

/** The canonical (camelCase) model, without cross-field rules: the source of Nx's schema.json. */
export const pushArgsShape = z.strictObject({
  ecrRepo: ecrRepoSchema.optional(),
  image: z
    .union([z.string().min(1), dockerImageSchema])
    .optional()
    .describe('A local image (reference or ID) pushed under its own repository and tags.'),
  repo: z.string().optional().describe('Repository URI to push to, e.g. "localhost:5000/app" or "ghcr.io/org/app".'),
  tags: z
    .array(z.string())
    .optional()
    .describe(
      'Tags to push; may hold {version}, {sha}, {shortSha}, {branch}, {date}, {projectName}. Default: the image\'s own tags with image, else ["latest"] (none with tagRules).',
    ),
  tagRules: z
    .array(z.string())
    .optional()
    .describe(
      'Tag rules in docker/metadata-action syntax, e.g. "type=semver,pattern={{version}}", "type=sha", "type=ref,event=branch"; rendered from CI variables or local git.',
    ),
  flavor: z
    .array(z.string())
    .optional()
    .describe('Defaults for every tag rule, e.g. "latest=false", "prefix=v", "suffix=-alpine,onlatest=true".'),
  source: z
    .string()
    .min(1)
    .optional()
    .describe(
      'The image to push: a local image (reference or ID), tagged as <repo>:<tag> for each tag with the docker engine; or docker-archive:PATH, oci:PATH[:REF], oci-archive:PATH[:REF] (registry engine).',
    ),
  engine: z
    .enum(ENGINES)
    .optional()
    .describe(
      'What uploads the image: "docker" (the Docker engine pushes it) or "registry" (dockpush uploads blobs and manifests itself). Default "docker"; "registry" when source is an archive or OCI layout.',
    ),
  compression: z
    .enum(COMPRESSIONS)
    .optional()
    .describe('Registry engine: compression of the layers it compresses (default gzip).'),
  compressionLevel: z
    .number()
    .int()
    .min(0)
    .max(19)
    .optional()
    .describe(
      'Registry engine: compression level; gzip 0 (store) to 9 (smallest), default 1; zstd 1 (fastest) to 19 (smallest), default 3.',
    ),
  auth: authSchema.optional(),
  dryRun: z.boolean().optional().describe('Resolve everything and push nothing.'),
  retries: z.number().int().min(0).max(10).optional().describe('Retries of a tag on transient failures (default 3).'),
  concurrency: z.number().int().min(1).max(32).optional().describe('Tags pushed at once (default 4).'),
  createRepository: z.boolean().optional().describe('ECR only: create the repository when it does not exist.'),
  outputFile: z.string().min(1).optional().describe('Write the result as JSON to this path.'),
  keepLocalTags: z
    .boolean()
    .optional()
    .describe('Keep the <repo>:<tag> tags created locally for source after the push (default: removed).'),
  timeout: z
    .number()
    .positive()
    .max(86_400)
    .optional()
    .describe(
      'Seconds any single wait may go without an answer or progress: an engine request, the push stream, a credential helper, an AWS call (default 60).',
    ),
});

export type PushArgsInput = z.input<typeof pushArgsShape>;
export type EcrRepoArgs = z.output<typeof ecrRepoSchema>;
export type ExplicitAuth = z.output<typeof authSchema>;
export type DockerImageLike = z.output<typeof dockerImageSchema>;

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

/** Runway's snake_case names and their canonical spelling. */
const TOP_LEVEL_ALIASES: Record<string, string> = { ecr_repo: 'ecrRepo' };
const ECR_REPO_ALIASES: Record<string, string> = {
  repo_name: 'repoName',
  account_id: 'accountId',
  aws_region: 'awsRegion',
  registry_alias: 'registryAlias',
};
const TOP_LEVEL_EXTRA_ALIASES: Record<string, string> = {
  dry_run: 'dryRun',
  create_repository: 'createRepository',
  output_file: 'outputFile',
  keep_local_tags: 'keepLocalTags',
  tag_rules: 'tagRules',
  compression_level: 'compressionLevel',
};
const AUTH_ALIASES: Record<string, string> = { identity_token: 'identityToken' };

const TARGET_FIELDS = ['ecrRepo', 'image', 'repo'] as const;

/**
 * Validates adapter input (camelCase or Runway snake_case) against every rule of the
 * model. Throws `ArgumentsError` listing each wrong field and the fix.
 */
export function parsePushArgs(input: unknown): PushArgs {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    throw new ArgumentsError(
      `dockpush arguments must be an object such as { repo: "localhost:5000/app", tags: ["1.0.0"] }, got ${describeType(input)}`,
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

  const parsed = pushArgsShape.safeParse(normalized);
  if (!parsed.success) {
    issues.push(...parsed.error.issues.flatMap((issue) => describeZodIssue(issue, normalized)));
  }
  const data: Partial<z.output<typeof pushArgsShape>> = parsed.success ? parsed.data : {};
  issues.push(...checkRules(parsed.success ? data : normalized));
  let tagRules: TagRule[] = [];
  let flavor: Flavor | undefined;
  if (parsed.success) {
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
  const level = args.compressionLevel;
  if (typeof level === 'number') {
    if (args.compression === 'zstd' && level < 1) {
      issues.push({
        path: 'compressionLevel',
        message: `${level} is not a zstd level: give 1 (fastest) to 19 (smallest)`,
      });
    } else if (args.compression !== 'zstd' && level > 9) {
      issues.push({
        path: 'compressionLevel',
        message: `${level} is not a gzip level: give 0 (store) to 9 (smallest), or add compression: "zstd" for levels up to 19`,
      });
    }
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

const KNOWN_KEYS: Record<string, string[]> = {
  '': [...Object.keys(pushArgsShape.shape), ...Object.keys(TOP_LEVEL_ALIASES)],
  ecrRepo: [...Object.keys(ecrRepoSchema.shape), ...Object.keys(ECR_REPO_ALIASES)],
  auth: ['username', 'password', 'identityToken'],
};

function describeZodIssue(issue: z.core.$ZodIssue, input: Record<string, unknown>): ArgumentIssue[] {
  const path = issue.path.map(String).join('.');
  switch (issue.code) {
    case 'unrecognized_keys':
      return issue.keys.map((key) => {
        const known = KNOWN_KEYS[path] ?? [];
        const suggestion = closest(key, known);
        return {
          path: join(path, key),
          message: `unknown option${suggestion ? `; did you mean "${suggestion}"?` : `; known options are ${known.join(', ')}`}`,
        };
      });
    case 'invalid_type':
      if (/^tags\.\d+$/.test(path) && typeof valueAt(input, issue.path) === 'number') {
        return [
          {
            path,
            message: `a tag must be a string, got number ${String(valueAt(input, issue.path))}; quote it in the config file (e.g. "1.0": unquoted, YAML and JSON read 1.0 as the number 1)`,
          },
        ];
      }
      return [
        {
          path,
          message: `expected ${issue.expected}, got ${describeType(valueAt(input, issue.path))}`,
        },
      ];
    case 'too_small':
      if (issue.origin === 'string') return [{ path, message: 'must not be empty' }];
      return [{ path, message: `must be at least ${String(issue.minimum)}` }];
    case 'too_big':
      return [{ path, message: `must be at most ${String(issue.maximum)}` }];
    case 'invalid_union':
      if (path === 'auth') {
        return [{ path, message: 'must be { username, password } or { identityToken }, each a non-empty string' }];
      }
      if (path === 'image') {
        return [{ path, message: 'must be a local image reference or ID (a non-empty string), or a DockerImage' }];
      }
      return [{ path, message: issue.message }];
    default:
      return [{ path, message: issue.message }];
  }
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

function valueAt(input: unknown, path: PropertyKey[]): unknown {
  let v: unknown = input;
  for (const key of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<PropertyKey, unknown>)[key];
  }
  return v;
}

function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string')
    return `the string ${JSON.stringify(value.length > 40 ? value.slice(0, 40) + '…' : value)}`;
  if (typeof value === 'number' || typeof value === 'boolean') return `${typeof value} ${String(value)}`;
  return typeof value === 'object' ? 'an object' : typeof value;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function join(prefix: string, key: string): string {
  return prefix ? `${prefix}.${key}` : key;
}

/** The known name closest to `name`, when it is close enough to be a likely typo. */
export function closest(name: string, known: string[]): string | undefined {
  const lower = name.toLowerCase();
  const containing = known.find((k) => lower.length >= 3 && k.toLowerCase().includes(lower));
  if (containing) return containing;
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of known) {
    const d = levenshtein(name.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return bestDistance <= Math.max(2, Math.floor(name.length / 3)) ? best : undefined;
}

function levenshtein(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(
        (prev[j] ?? 0) + 1,
        (cur[j - 1] ?? 0) + 1,
        (prev[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    prev = cur;
  }
  return prev[b.length] ?? 0;
}
