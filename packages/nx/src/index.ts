/**
 * The plugin entry Nx loads from nx.json's `plugins`, kept light: the executor (and with
 * it the Docker and AWS clients) loads only when a target runs, through executors.json.
 */
export { createNodes, createNodesV2, type DockpushPluginOptions } from './plugins/plugin';
export { configurationGenerator } from './generators/configuration/configuration';
export { initGenerator } from './generators/init/init';
export type { PushExecutorSchema } from './executors/push/schema';
export type { ReleasePublishExecutorSchema, ReleaseVersionDataEntry } from './executors/release-publish/schema';
export type { ConfigurationGeneratorSchema } from './generators/configuration/schema';
export type { InitGeneratorSchema } from './generators/init/schema';
