import type { PushFlags } from '../cli/cli-options';

/** The flags a bare `dockpush push` parses to: every list empty, every switch off. */
export const defaultPushFlags: PushFlags = {
  tags: [],
  tagRules: [],
  flavor: [],
  dryRun: false,
  json: false,
  createRepository: false,
  keepLocalTags: false,
  passwordStdin: false,
  quiet: false,
};
