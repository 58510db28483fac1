export { dockerPush, type DockerPushArgs, type DockerPushTask, type DockerPushTaskOptions } from './docker-push';
export type { GulpLog } from './gulp-log';
export {
  DockpushError,
  ArgumentsError,
  DockerUnavailableError,
  ImageNotFoundError,
  RegistryAuthError,
  PushFailedError,
  PushCancelledError,
  type PushArgsInput,
  type PushResult,
  type PushPlan,
} from '@dockpush/core';
