/**
 * The parts of Grunt's API the task uses, typed here so that neither grunt nor its types
 * are a dependency (Grunt hands itself to the plugin at load time).
 */
export interface GruntLike {
  registerMultiTask(name: string, description: string, task: (this: GruntTaskContext) => void): void;
  log: {
    writeln(text?: string): unknown;
    ok(text?: string): unknown;
  };
  option(name: string): unknown;
}

export interface GruntTaskContext {
  /** The target's name: `app` in `grunt dockerPush:app`. */
  target: string;
  /** The target's raw configuration. */
  data: unknown;
  /** Task-level `options` merged with the target's, over `defaults`, as Grunt merges them. */
  options<T extends object>(defaults?: T): T;
  async(): (result?: boolean | Error) => void;
}
