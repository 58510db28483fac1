import type { PushFlags } from './cli-options';
import { isPlainObject, type PushConfig } from './config-file';
import { UsageError, type UsageIssue } from './usage-error';

/** The argument model of one `dockpush push`, and how to name each of its fields to the user. */
export interface PushInvocation {
  /** The `--config` file's arguments with the flags laid over them, for core's `parsePushArgs`. */
  input: Record<string, unknown>;
  /** Names a model field (`tags.1`, `ecrRepo.awsRegion`) as the user wrote it: a flag, or a field of the file. */
  describeField(path: string): string;
}

/** ECR flags, their camelCase field in `ecrRepo` and Runway's spelling of it. */
const ECR_FLAGS = [
  { flag: '--ecr-account-id', key: 'ecrAccountId', field: 'accountId', runway: 'account_id' },
  { flag: '--ecr-region', key: 'ecrRegion', field: 'awsRegion', runway: 'aws_region' },
  { flag: '--ecr-registry-alias', key: 'ecrRegistryAlias', field: 'registryAlias', runway: 'registry_alias' },
] as const;

const TARGET_FIELDS = ['repo', 'image', 'ecrRepo', 'ecr_repo'];

/**
 * Lays the flags over the `--config` file's arguments: a flag replaces the file's value of its
 * field (`--tag` replaces the whole list); a target flag (`--repo`, `--image`,
 * `--ecr-repo-name`) replaces the file's target; `--ecr-region` and the other ECR flags alone
 * amend the file's `ecr_repo`. Contradictions among the flags are a `UsageError`.
 */
export function buildPushArgs(flags: PushFlags, config?: PushConfig, password?: string): PushInvocation {
  const input: Record<string, unknown> = config ? structuredClone(config.args) : {};
  const fromFlags = new Map<string, string>();
  const set = (field: string, flag: string, value: unknown, runwayName?: string) => {
    if (runwayName) delete input[runwayName];
    input[field] = value;
    fromFlags.set(field, flag);
  };

  const targets = [
    flags.repo !== undefined && '--repo',
    flags.image !== undefined && '--image',
    flags.ecrRepoName !== undefined && '--ecr-repo-name',
  ].filter((f): f is string => typeof f === 'string');
  const ecrFlags = ECR_FLAGS.filter((e) => flags[e.key] !== undefined);
  const fileUsesRunwayEcr = config !== undefined && 'ecr_repo' in config.args && !('ecrRepo' in config.args);

  if (targets.length > 1) {
    throw new UsageError(`give one of --repo, --image or --ecr-repo-name, not ${targets.join(' and ')}`);
  }
  const [firstEcrFlag] = ecrFlags;
  if (firstEcrFlag && targets.length === 1 && targets[0] !== '--ecr-repo-name') {
    throw new UsageError([{ where: firstEcrFlag.flag, message: `goes with --ecr-repo-name, not with ${targets[0]}` }]);
  }
  if (targets.length === 1) {
    for (const field of TARGET_FIELDS) delete input[field];
    if (flags.repo !== undefined) set('repo', '--repo', flags.repo);
    if (flags.image !== undefined) set('image', '--image', flags.image);
    if (flags.ecrRepoName !== undefined) {
      const ecrRepo: Record<string, unknown> = { repoName: flags.ecrRepoName };
      fromFlags.set('ecrRepo.repoName', '--ecr-repo-name');
      for (const e of ecrFlags) {
        ecrRepo[e.field] = flags[e.key];
        fromFlags.set(`ecrRepo.${e.field}`, e.flag);
      }
      input.ecrRepo = ecrRepo;
    }
  } else if (firstEcrFlag) {
    const key = 'ecrRepo' in input ? 'ecrRepo' : 'ecr_repo';
    const fileEcrRepo = input[key];
    if (!isPlainObject(fileEcrRepo)) {
      throw new UsageError([
        {
          where: firstEcrFlag.flag,
          message: `needs --ecr-repo-name${config ? ` (${config.file} has no ecr_repo to amend)` : ''}`,
        },
      ]);
    }
    for (const e of ecrFlags) {
      delete fileEcrRepo[e.runway];
      fileEcrRepo[e.field] = flags[e.key];
      fromFlags.set(`ecrRepo.${e.field}`, e.flag);
    }
  } else if (!config) {
    throw new UsageError(
      'say where to push: give --repo URI, --image REF or --ecr-repo-name NAME (or a --config FILE holding them)',
    );
  }

  if (flags.tags.length > 0) set('tags', '--tag', [...flags.tags]);
  if (flags.tagRules.length > 0) set('tagRules', '--tag-rule', [...flags.tagRules], 'tag_rules');
  if (flags.flavor.length > 0) set('flavor', '--flavor', [...flags.flavor]);
  if (flags.source !== undefined) set('source', '--source', flags.source);
  if (flags.outputFile !== undefined) set('outputFile', '--output-file', flags.outputFile, 'output_file');
  if (flags.retries !== undefined) set('retries', '--retries', flags.retries);
  if (flags.concurrency !== undefined) set('concurrency', '--concurrency', flags.concurrency);
  if (flags.timeout !== undefined) set('timeout', '--timeout', flags.timeout);
  if (flags.dryRun) set('dryRun', '--dry-run', true, 'dry_run');
  if (flags.createRepository) set('createRepository', '--create-repository', true, 'create_repository');
  if (flags.keepLocalTags) set('keepLocalTags', '--keep-local-tags', true, 'keep_local_tags');
  if (flags.engine !== undefined) set('engine', '--engine', flags.engine);
  if (flags.compression !== undefined) set('compression', '--compression', flags.compression);
  if (flags.compressionLevel !== undefined) {
    set('compressionLevel', '--compression-level', flags.compressionLevel, 'compression_level');
  }

  if (flags.username !== undefined && !flags.passwordStdin) {
    throw new UsageError([{ where: '--username', message: 'needs --password-stdin, with the password piped in' }]);
  }
  if (flags.passwordStdin) {
    if (flags.username === undefined) {
      throw new UsageError([{ where: '--password-stdin', message: 'needs --username USER' }]);
    }
    set('auth', '--username', { username: flags.username, password: password ?? '' });
    fromFlags.set('auth.password', '--password-stdin');
  }

  const describeField = (path: string): string => {
    // `tags.1` and `tagRules[1]` are both within the field their flag set.
    for (let p = path; p; p = p.slice(0, Math.max(0, p.lastIndexOf('.'), p.lastIndexOf('[')))) {
      const flag = fromFlags.get(p);
      if (flag) return flag;
    }
    if (!config) return path;
    const where = config.location ? `${config.file}: ${config.location}` : config.file;
    if (!path) return where;
    const field = fileUsesRunwayEcr ? runwaySpelling(path) : path;
    return config.location ? `${where}.${field}` : `${where}: ${field}`;
  };

  // The file's unresolved lookups, in the fields the flags left to it. Flags and the
  // password from stdin are values, never read for lookups.
  const lookups = (config?.unresolved ?? []).filter((l) => valueAt(input, l.path) === valueAt(config?.args, l.path));
  if (lookups.length > 0) {
    const issues: UsageIssue[] = lookups.map((l) => ({
      where: describeField(l.path.replace(/^ecr_repo\b/, 'ecrRepo')),
      message: l.message,
    }));
    throw new UsageError(issues);
  }
  return { input, describeField };
}

/** `ecrRepo.awsRegion` as a Runway file spells it: `ecr_repo.aws_region`. */
function runwaySpelling(path: string): string {
  if (!path.startsWith('ecrRepo')) return path;
  return path
    .replace(/^ecrRepo/, 'ecr_repo')
    .replace(
      /\.(repoName|accountId|awsRegion|registryAlias)\b/,
      (_, f: string) => `.${f.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)}`,
    );
}

/** The value at a dotted path (`ecr_repo.repo_name`, `tags.1`), or `undefined`. */
function valueAt(value: unknown, path: string): unknown {
  let current = value;
  for (const key of path.split('.')) {
    if (Array.isArray(current)) current = current[Number(key)];
    else if (isPlainObject(current) && Object.hasOwn(current, key)) current = current[key];
    else return undefined;
  }
  return current;
}
