/** What @dockpush/core exports, as its README lists it: an export added or lost by accident shows here. */
const PUBLIC_NAMES = [
  'ArgumentsError',
  'DockerUnavailableError',
  'DockpushError',
  'ImageNotFoundError',
  'JsonTextError',
  'OutputFileError',
  'ProgressListenerError',
  'PushCancelledError',
  'PushFailedError',
  'RegistryAuthError',
  'closest',
  'createProgressRenderer',
  'createPushClient',
  'detectProgressMode',
  'explainInvalidRepository',
  'isPushPlan',
  'parseJsonText',
  'parsePushArgs',
  'pushImage',
  'redact',
  'registerSecret',
  'resolvePushPlan',
  'splitRepoTag',
  'visible',
];

it('@dockpush/core exports its documented names and nothing else', () => {
  expect(Object.keys(require('./index') as object).sort()).toEqual([...PUBLIC_NAMES].sort());
});
