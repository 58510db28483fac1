import { z } from 'zod';
import type { ArgumentIssue } from '../errors';
import { closest } from './closest-name';
import { describeValue } from './describe-value';
import { COMPRESSIONS, ECR_REPO_ALIASES, ENGINES, TOP_LEVEL_ALIASES } from './option-names';

/**
 * The one argument model of dockpush, in zod. Every adapter (Nx, Gulp, Grunt, Node, CLI) passes
 * its options through `parsePushArgs` (push-args.ts), which checks them against this model;
 * Nx's schema.json and push-args.schema.json are generated from `pushArgsShape`.
 *
 * Loaded only when arguments do not conform to push-args.schema.json (to name what is wrong) or
 * when a caller wants the model itself (`@dockpush/core/model`): zod costs about 100 ms of
 * start-up, which a valid push need not pay.
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

/** `input` (canonical spelling) as the model reads it, or each way it breaks the model, as dockpush words it. */
export function checkModel(
  input: Record<string, unknown>,
): { data: PushArgsInput; issues?: undefined } | { data?: undefined; issues: ArgumentIssue[] } {
  const parsed = pushArgsShape.safeParse(input);
  if (parsed.success) return { data: parsed.data };
  return { issues: parsed.error.issues.flatMap((issue) => describeZodIssue(issue, input)) };
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
          message: `expected ${issue.expected}, got ${describeValue(valueAt(input, issue.path))}`,
        },
      ];
    case 'too_small':
      if (issue.origin === 'string') return [{ path, message: 'must not be empty' }];
      // `positive()` is "above 0", not "at least 0".
      return [
        {
          path,
          message: `must be ${issue.inclusive === false ? 'above' : 'at least'} ${String(issue.minimum)}`,
        },
      ];
    case 'too_big':
      if (path === 'compressionLevel') {
        return [
          {
            path,
            message: `must be at most ${String(issue.maximum)} (zstd's highest level); gzip levels go from 0 (store) to 9 (smallest)`,
          },
        ];
      }
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
function valueAt(input: unknown, path: PropertyKey[]): unknown {
  let v: unknown = input;
  for (const key of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<PropertyKey, unknown>)[key];
  }
  return v;
}

function join(prefix: string, key: string): string {
  return prefix ? `${prefix}.${key}` : key;
}
