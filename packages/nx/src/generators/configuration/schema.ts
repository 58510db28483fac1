/** Options of `@dockpush/nx:configuration` (schema.json beside this file). */
export interface ConfigurationGeneratorSchema {
  project: string;
  repo?: string;
  ecrRepoName?: string;
  ecrAccountId?: string;
  ecrRegion?: string;
  ecrRegistryAlias?: string;
  source?: string;
  tags?: string[];
  buildTarget?: string;
  targetName?: string;
  skipFormat?: boolean;
}
