#!/usr/bin/env node
import { EXIT, runCli } from './run';

/**
 * The `dockpush` binary. The first SIGINT (or SIGTERM) aborts the push: no new tag starts,
 * those in flight are seen to their end (the engine finishes them anyway), and the tags
 * that completed are reported. A second one exits at once.
 */
const controller = new AbortController();
let received: NodeJS.Signals | undefined;

function onSignal(signal: NodeJS.Signals): void {
  const status = signal === 'SIGTERM' ? 143 : EXIT.cancelled;
  if (received) process.exit(status);
  received = signal;
  process.stderr.write(`\ndockpush: ${signal}: no new tag starts; waiting for those in flight (again to quit now)\n`);
  controller.abort(new Error(`cancelled by ${signal}`));
}
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);

function readStdin(): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    process.stdin.on('data', (chunk: Buffer) => chunks.push(chunk));
    process.stdin.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    process.stdin.on('error', reject);
  });
}

void runCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  readStdin,
  env: process.env,
  signal: controller.signal,
}).then((status) => {
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  process.exitCode = status === EXIT.cancelled && received === 'SIGTERM' ? 143 : status;
});
