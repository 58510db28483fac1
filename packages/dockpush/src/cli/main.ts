#!/usr/bin/env node
import { asksForJson, EXIT, runCli } from './run';
import { PushLedger } from './push-ledger';

/**
 * The `dockpush` binary. The first SIGINT (or SIGTERM) cancels the run: no new tag
 * starts and every wait (a credential helper, the engine, AWS, a retry's pause) ends;
 * tags the engine is pushing are seen to their end (it finishes them anyway), and what
 * completed is reported. With nothing being pushed, the process ends within a few
 * seconds whatever still waits. A second signal exits at once, saying what landed and
 * what may have. Exit status 130 for SIGINT, 143 for SIGTERM.
 */
const controller = new AbortController();
const ledger = new PushLedger();
let received: NodeJS.Signals | undefined;

/** With nothing being pushed, a cancelled run has this long to report before the process ends anyway. */
const CANCEL_GRACE_MS = 3_000;

const statusFor = (signal: NodeJS.Signals): number => (signal === 'SIGTERM' ? 143 : EXIT.cancelled);

/**
 * Writes to stdout/stderr that stop quietly once the reader has gone (`dockpush … |
 * head -1`): a closed pipe is no reason to crash or to change the exit status.
 */
function pipeSafe(stream: NodeJS.WriteStream): { write(text: string): boolean; isTTY?: boolean } {
  let closed = false;
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') closed = true;
    else throw error;
  });
  return {
    write: (text: string) => (closed ? false : stream.write(text)),
    ...(stream.isTTY ? { isTTY: true } : {}),
  };
}

const stdout = pipeSafe(process.stdout);
const stderr = pipeSafe(process.stderr);
const json = asksForJson(process.argv.slice(2));

/** Ends the run before core could report it: what landed and what may have, as JSON too when asked. */
function exitNow(signal: NodeJS.Signals, why: string): never {
  stderr.write(`${why} ${ledger.describe()}\n`);
  if (json) {
    const error = { code: 'CANCELLED', message: `${why.trim()} ${ledger.describe()}`, outcomes: ledger.outcomes() };
    stdout.write(`${JSON.stringify({ error }, null, 2)}\n`);
  }
  process.exit(statusFor(signal));
}

function onSignal(signal: NodeJS.Signals): void {
  if (received) exitNow(signal, `\ndockpush: ${signal} again: exiting now.`);
  received = signal;
  const uploading = ledger.uploading;
  controller.abort(new Error(`cancelled by ${signal}`));
  if (uploading > 0) {
    stderr.write(
      `\ndockpush: ${signal}: no new tag starts; waiting for those in flight ` +
        `(${uploading} being pushed: the Docker engine finishes a push it has begun; the registry engine ` +
        'stops its uploads and waits for the manifests it has sent); again to quit now\n',
    );
    return;
  }
  stderr.write(`\ndockpush: ${signal}: stopping; nothing is being pushed\n`);
  setTimeout(
    () => exitNow(signal, `dockpush: the run did not end ${CANCEL_GRACE_MS / 1000} s after ${signal}; exiting.`),
    CANCEL_GRACE_MS,
  ).unref();
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
  stdout,
  stderr,
  readStdin,
  env: process.env,
  signal: controller.signal,
  observe: (event) => ledger.observe(event),
}).then((status) => {
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  process.exitCode = status === EXIT.cancelled && received ? statusFor(received) : status;
});
