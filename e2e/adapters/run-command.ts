import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export interface CommandResult {
  /** Exit status; null when a signal ended the process. */
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  cwd: string;
  env?: NodeJS.ProcessEnv;
  /** Written to stdin, which is then closed. */
  input?: string;
  /** Called with the child as soon as it starts, and with each chunk of stderr. */
  onStderr?: (chunk: string, child: ChildProcess) => void;
}

/** Runs a command as a user would in a shell, without blocking the test process. */
export function runCommand(command: string, args: string[], options: RunOptions): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env ?? process.env });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
      options.onStderr?.(chunk, child);
    });
    child.on('error', reject);
    child.on('close', (status, signal) => resolve({ status, signal, stdout, stderr }));
    child.stdin.end(options.input ?? '');
  });
}

/**
 * The environment of a user with no Docker credentials (an empty DOCKER_CONFIG), so that
 * pushes to the anonymous test registry do not depend on the machine's ~/.docker.
 */
export function userEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const dockerConfig = mkdtempSync(path.join(tmpdir(), 'dockpush-e2e-docker-config-'));
  const env: NodeJS.ProcessEnv = { ...process.env, DOCKER_CONFIG: dockerConfig, ...extra };
  delete env.DOCKER_AUTH_CONFIG;
  delete env.DEBUG;
  return env;
}

/** Matches a stack trace line, which users should not see unless DEBUG is set. */
export const STACK_LINE = /^\s+at .+\(.+:\d+:\d+\)$/m;
