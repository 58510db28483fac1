/**
 * The names of dockpush's options that the argument model and its parser share, kept apart from
 * the zod model so that parsing valid arguments does not load zod.
 */

/** What uploads the image: the Docker engine, or dockpush itself over the registry API. */
export const ENGINES = ['docker', 'registry'] as const;
export type EngineName = (typeof ENGINES)[number];
export const COMPRESSIONS = ['gzip', 'zstd'] as const;
export type CompressionName = (typeof COMPRESSIONS)[number];

/** Runway's snake_case names and their canonical spelling. */
export const TOP_LEVEL_ALIASES: Record<string, string> = { ecr_repo: 'ecrRepo' };
export const TOP_LEVEL_EXTRA_ALIASES: Record<string, string> = {
  dry_run: 'dryRun',
  create_repository: 'createRepository',
  output_file: 'outputFile',
  keep_local_tags: 'keepLocalTags',
  tag_rules: 'tagRules',
  compression_level: 'compressionLevel',
};
export const ECR_REPO_ALIASES: Record<string, string> = {
  repo_name: 'repoName',
  account_id: 'accountId',
  aws_region: 'awsRegion',
  registry_alias: 'registryAlias',
};
export const AUTH_ALIASES: Record<string, string> = { identity_token: 'identityToken' };
