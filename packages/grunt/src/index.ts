/**
 * @dockpush/grunt: the multi-task `dockerPush`. `grunt.loadNpmTasks('@dockpush/grunt')`
 * loads tasks/docker-push.js, which registers it; `registerDockerPushTask` is for Gruntfiles
 * that register it themselves.
 */
export { registerDockerPushTask, TASK_NAME, type DockerPushTaskDependencies } from './docker-push-task';
export type { GruntLike, GruntTaskContext } from './grunt-types';
export * from '@dockpush/core/errors';
export type { PushArgsInput, PushResult, PushPlan } from '@dockpush/core';
