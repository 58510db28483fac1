/** Options of `@dockpush/nx:init` (schema.json beside this file). */
export interface InitGeneratorSchema {
  targetName?: string;
  repo?: string;
  skipFormat?: boolean;
}
