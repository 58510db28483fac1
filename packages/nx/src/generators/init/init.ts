import { formatFiles, logger, readNxJson, updateNxJson, type Tree } from '@nx/devkit';
import type { DockpushPluginOptions } from '../../plugins/plugin';
import { DEFAULT_REPO_PATTERN, DEFAULT_TARGET_NAME, PLUGIN_NAME } from '../../utils/target-defaults';
import type { InitGeneratorSchema } from './schema';

/**
 * `nx add @dockpush/nx` runs this: registers the plugin in nx.json, once. Leaves an
 * existing registration (and its options) alone, so running it again changes nothing.
 */
export async function initGenerator(tree: Tree, schema: InitGeneratorSchema = {}): Promise<void> {
  const nxJson = readNxJson(tree);
  if (!nxJson) {
    logger.warn(`nx.json not found: ${PLUGIN_NAME} was not registered. Run this inside an Nx workspace.`);
    return;
  }
  const plugins = nxJson.plugins ?? [];
  const registered = plugins.some((p) => (typeof p === 'string' ? p : p.plugin) === PLUGIN_NAME);
  if (registered) {
    logger.info(`${PLUGIN_NAME} is already registered in nx.json.`);
  } else {
    const options: DockpushPluginOptions = {
      targetName: schema.targetName ?? DEFAULT_TARGET_NAME,
      repo: schema.repo ?? DEFAULT_REPO_PATTERN,
    };
    nxJson.plugins = [...plugins, { plugin: PLUGIN_NAME, options }];
    updateNxJson(tree, nxJson);
    logger.info(
      `Added ${PLUGIN_NAME} to the plugins in nx.json: projects with a Dockerfile get ${options.targetName}.`,
    );
  }
  if (!schema.skipFormat) await formatFiles(tree);
}

export default initGenerator;
