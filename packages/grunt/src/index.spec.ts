import * as errors from '@dockpush/core/errors';

/**
 * What @dockpush/grunt exports, as its README lists it: its own names and core's errors (listed in
 * core's own index test). An export added or lost by accident shows here.
 */
const OWN_NAMES = ['TASK_NAME', 'registerDockerPushTask'];

it("@dockpush/grunt exports its documented names and core's errors, and nothing else", () => {
  expect(Object.keys(require('./index') as object).sort()).toEqual([...OWN_NAMES, ...Object.keys(errors)].sort());
});
