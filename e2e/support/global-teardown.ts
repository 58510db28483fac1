import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { e2eRegistryNames, testEnvScripts } from './env';
import { writeReliabilityReport } from './reliability-report';

/** Jest globalTeardown of the e2e project: removes the run's registries, unless DOCKPUSH_E2E_KEEP=1. */
export default async function globalTeardown(): Promise<void> {
  writeReliabilityReport();
  if (process.env.DOCKPUSH_E2E_KEEP === '1') return;
  const script = path.join(testEnvScripts, 'stop-registry.sh');
  const failed = Object.values(e2eRegistryNames).filter(
    (name) => spawnSync('bash', [script, name], { stdio: 'inherit' }).status !== 0,
  );
  if (failed.length > 0) {
    throw new Error(`dockpush e2e: could not remove ${failed.join(', ')} (message above); remove with docker rm -f.`);
  }
}
