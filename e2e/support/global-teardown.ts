import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { e2eRegistryNames, e2eRunId, testEnvScripts } from './env';
import { stopSharedNpmRegistry } from './npm-registry';
import { packsDir, scratchRoot } from './packages';
import { OPEN_HANDLES_SWITCH, describeOpenHandles, watchForOpenHandles } from './open-handles';
import { writeReliabilityReport } from './reliability-report';

/**
 * Jest globalTeardown of the e2e project: removes the run's registries, unless DOCKPUSH_E2E_KEEP=1,
 * and watches that nothing left open keeps jest's main process from exiting.
 */
export default async function globalTeardown(): Promise<void> {
  try {
    removeRunResources();
  } finally {
    watchForOpenHandles();
    if (process.env[OPEN_HANDLES_SWITCH] === '1') {
      process.stderr.write(
        `\ndockpush e2e: open at the end of the global teardown:\n${describeOpenHandles()
          .map((l) => `  - ${l}\n`)
          .join('')}`,
      );
    }
  }
}

function removeRunResources(): void {
  writeReliabilityReport();
  if (process.env.DOCKPUSH_E2E_KEEP === '1') return;
  removeScratchOfThisRun();
  stopSharedNpmRegistry();
  const script = path.join(testEnvScripts, 'stop-registry.sh');
  const failed = Object.values(e2eRegistryNames).filter(
    (name) => spawnSync('bash', [script, name], { stdio: 'inherit' }).status !== 0,
  );
  if (failed.length > 0) {
    throw new Error(`dockpush e2e: could not remove ${failed.join(', ')} (message above); remove with docker rm -f.`);
  }
}

/** The run's packed tarballs and shared scratch projects (hundreds of MB with nx). */
function removeScratchOfThisRun(): void {
  rmSync(packsDir, { recursive: true, force: true });
  const scratch = scratchRoot;
  if (!existsSync(scratch)) return;
  for (const entry of readdirSync(scratch)) {
    if (entry.endsWith(`-run-${e2eRunId}`)) rmSync(path.join(scratch, entry), { recursive: true, force: true });
  }
}
