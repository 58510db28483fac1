/**
 * The push engines the e2e suites run against: every engine by default, as CI runs them.
 *
 * `DOCKPUSH_E2E_ENGINES=docker` (a comma-separated list) narrows a run to some engines while
 * developing. A narrowed run is never silent: each suite prints a banner, and every engine left
 * out shows up as a skipped test naming the variable, which the closing summary lists.
 */
export type E2eEngine = 'docker' | 'registry';

export const allEngines: readonly E2eEngine[] = ['docker', 'registry'];
export const ENGINES_SWITCH = 'DOCKPUSH_E2E_ENGINES';

/** The engines this run covers; an unknown name in the switch is an error, not a silent skip. */
export function enginesUnderTest(env: NodeJS.ProcessEnv = process.env): E2eEngine[] {
  const value = env[ENGINES_SWITCH]?.trim();
  if (!value) return [...allEngines];
  const names = value.split(',').map((n) => n.trim());
  const unknown = names.filter((n) => !allEngines.includes(n as E2eEngine));
  if (unknown.length > 0 || names.length === 0) {
    throw new Error(
      `${ENGINES_SWITCH}="${value}": ${unknown.map((n) => `"${n}"`).join(', ')} is not an engine; ` +
        `give a comma-separated list of ${allEngines.join(', ')}, or unset it to run them all`,
    );
  }
  return allEngines.filter((e) => names.includes(e));
}

/**
 * `describe.each` over the engines under test, titled `<title> (engine: <name>)`. For each engine
 * left out by the switch, a skipped test says so, and a banner goes to the console.
 */
export function describeEachEngine(title: string, body: (engine: E2eEngine) => void): void {
  const engines = enginesUnderTest();
  describe.each(engines)(`${title} (engine: %s)`, body);
  skipLoudly(
    title,
    allEngines.filter((e) => !engines.includes(e)),
  );
}

/** A suite about one engine only: it runs when that engine is under test, else a skipped test says why. */
export function describeOneEngine(engine: E2eEngine, title: string, body: () => void): void {
  if (enginesUnderTest().includes(engine)) describe(title, body);
  else skipLoudly(title, [engine]);
}

function skipLoudly(title: string, left: E2eEngine[]): void {
  if (left.length === 0) return;
  const reason =
    `the ${left.join(', ')} engine is NOT tested in this run (${ENGINES_SWITCH}=${process.env[ENGINES_SWITCH]}); ` +
    'unset it to test every engine, as CI does';
  console.warn(`\n${'='.repeat(72)}\n${title}: ${reason}\n${'='.repeat(72)}\n`);
  describe.each(left)(`${title} (engine: %s)`, () => {
    it.skip(reason, () => undefined);
  });
}

/**
 * The arguments that choose `engine`, for the Node API and the adapters' options. The Docker
 * engine too is asked for by name, so that its tests keep testing it whatever the default.
 */
export function engineArgs(engine: E2eEngine): { engine: E2eEngine } {
  return { engine };
}

/** The CLI flags that choose `engine`. */
export function engineFlags(engine: E2eEngine): string[] {
  return ['--engine', engine];
}
