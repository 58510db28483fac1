/** The names and defaults shared by the executor, the generators and the plugin. */

export const EXECUTOR = '@dockpush/nx:push';
export const PLUGIN_NAME = '@dockpush/nx';
export const DEFAULT_TARGET_NAME = 'docker-push';

/** Where the executor writes the result unless `outputFile` says otherwise. */
export const DEFAULT_OUTPUT_FILE = '{workspaceRoot}/dist/docker-push/{projectName}.json';

/** The repository pattern `init` writes into nx.json when none is given: visible there, never a silent default. */
export const DEFAULT_REPO_PATTERN = 'localhost:5000/{projectName}';

/**
 * Target names that build a project's image, by convention: ours and the one
 * `@nx/docker` infers. `dependsOn` on a target a project lacks is ignored by Nx.
 */
export const IMAGE_BUILD_TARGETS = ['docker-build', 'docker:build'] as const;
