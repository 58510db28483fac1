import type { PushArgsInput } from '@dockpush/core';

/**
 * Options of `@dockpush/nx:push`: the core model's input type (`z.input` of
 * `pushArgsShape`), so this type, `schema.json` (generated from the same model by
 * `scripts/generate-schema.js`) and the validation cannot drift apart.
 *
 * String options may hold `{workspaceRoot}`, `{projectRoot}` and `{projectName}`;
 * `outputFile` defaults to `{workspaceRoot}/dist/docker-push/{projectName}.json`.
 */
export type PushExecutorSchema = PushArgsInput;
