/** What @dockpush/nx exports, as its README lists it: an export added or lost by accident shows here. */
const PUBLIC_NAMES = ['configurationGenerator', 'createNodes', 'createNodesV2', 'initGenerator'];

it('@dockpush/nx exports its documented names and nothing else', () => {
  expect(Object.keys(require('./index') as object).sort()).toEqual([...PUBLIC_NAMES].sort());
});
