/**
 * `@dockpush/core/model`: the argument model itself, in zod, for tools that generate from it
 * (Nx's schema.json). A push does not need it: `parsePushArgs` loads it only to explain
 * arguments that do not conform.
 */
export { pushArgsShape, type PushArgsInput } from './args/push-args-model';
