export { dockerPush, type DockerPushArgs, type DockerPushTask, type DockerPushTaskOptions } from './docker-push';
export type { GulpLog } from './gulp-log';
export * from '@dockpush/core/errors';
export type { PushArgsInput, PushResult, PushPlan } from '@dockpush/core';
