import type { DockpushError, PushEvent, PushOptions, PushPlan, PushResult } from '@dockpush/core';
import { buildPushArgs, type PushInvocation } from './build-push-args';
import { parseCommandLine, type PushFlags } from './cli-options';
import { loadPushConfig } from './config-file';
import { cliVersion, helpText } from './help';
import { formatUsageIssue, UsageError } from './usage-error';

/** What the CLI talks to; `main.ts` passes the process's, tests pass their own. */
export interface CliIo {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown; isTTY?: boolean };
  readStdin: () => Promise<string>;
  env: NodeJS.ProcessEnv;
  /** Aborted on SIGINT/SIGTERM. */
  signal?: AbortSignal;
  /** Collaborators handed to the push (a Docker client, fakes in tests). */
  pushOptions?: PushOptions;
  /** Sees every progress event, whether or not progress is shown (`main.ts` keeps its ledger with it). */
  observe?: (event: PushEvent) => void;
}

export const EXIT = { ok: 0, failed: 1, usage: 2, cancelled: 130 } as const;

/** Whether `argv` asks for JSON output, read before (and whatever) the rest of it parses to. */
export function asksForJson(argv: readonly string[]): boolean {
  return argv.includes('--json');
}

/** Runs `dockpush` with `argv` (without `node` and the script) and resolves to the exit status. */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  // Asked for before the command line is known good: an error in it is reported as JSON too.
  let json = asksForJson(argv);
  try {
    const command = parseCommandLine(argv);
    if (command.kind === 'help') {
      io.stdout.write(helpText(cliVersion()));
      return EXIT.ok;
    }
    if (command.kind === 'version') {
      io.stdout.write(`dockpush ${cliVersion()}\n`);
      return EXIT.ok;
    }
    json = command.flags.json;
    return await runPush(command.flags, io);
  } catch (error) {
    return reportError(error, io, json);
  }
}

async function runPush(flags: PushFlags, io: CliIo): Promise<number> {
  const config = flags.config !== undefined ? await loadPushConfig(flags.config, io.env) : undefined;
  const password = flags.passwordStdin ? await readPassword(io, flags.username) : undefined;
  const invocation = buildPushArgs(flags, config, password);

  // Core (and dockerode) load only once the command line is known to be a push.
  const core = await import('@dockpush/core');
  const { pushImage, isPushPlan } = await import('../api/push-image');
  const renderer = flags.quiet
    ? undefined
    : core.createProgressRenderer({
        mode: core.detectProgressMode(io.stderr, io.env),
        write: (text) => io.stderr.write(text),
        githubGroups: io.env.GITHUB_ACTIONS === 'true',
      });

  let result: PushResult | PushPlan;
  try {
    result = await pushImage(invocation.input, {
      env: io.env,
      ...io.pushOptions,
      ...(renderer || io.observe
        ? {
            onProgress: (event: PushEvent) => {
              io.observe?.(event);
              renderer?.onProgress(event);
            },
          }
        : {}),
      ...(io.signal ? { signal: io.signal } : {}),
    });
  } catch (error) {
    if (error instanceof core.ArgumentsError) throw toUsageError(error, invocation);
    throw error;
  } finally {
    renderer?.close();
  }

  if (flags.json) {
    io.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  } else if (isPushPlan(result)) {
    for (const tag of result.tags) io.stdout.write(`${result.uri[tag] ?? `${result.repo}:${tag}`}\n`);
  } else {
    for (const p of result.pushed) io.stdout.write(`${p.uri}@${p.digest}\n`);
  }
  if (isPushPlan(result) && !flags.quiet) {
    io.stderr.write(
      `dry run: nothing pushed; would push ${result.tags.length} tag${result.tags.length === 1 ? '' : 's'} of ${result.repo}` +
        `${result.source ? ` tagged from ${result.source}` : ''} with credentials: ${result.credentials}\n`,
    );
    // Which tag rule or tag template made each tag (stdout keeps one URI a line for scripts).
    for (const [tag, rule] of Object.entries(result.tagSources ?? {})) {
      io.stderr.write(`  ${tag}  from ${rule}\n`);
    }
  }
  return EXIT.ok;
}

/**
 * Like `docker login --password-stdin`: all of stdin, without the final newline. The password
 * is opaque (never read for lookups) and a secret from the moment it is read.
 */
async function readPassword(io: CliIo, username: string | undefined): Promise<string> {
  const password = (await io.readStdin()).replace(/\r?\n$/, '');
  const { registerSecret } = require('@dockpush/core') as typeof import('@dockpush/core');
  registerSecret(password, username);
  if (!password) {
    throw new UsageError([
      {
        where: '--password-stdin',
        message: 'read nothing from stdin; pipe the password in: echo "$PASSWORD" | dockpush …',
      },
    ]);
  }
  return password;
}

/** Names core's argument issues the way the user gave them: a flag, or a field of the config file. */
function toUsageError(error: { issues: { path: string; message: string }[] }, invocation: PushInvocation): UsageError {
  return new UsageError(
    error.issues.map((issue) => ({ where: invocation.describeField(issue.path), message: issue.message })),
    { cause: error },
  );
}

function reportError(error: unknown, io: CliIo, json: boolean): number {
  // Whatever the error holds, no secret dockpush has seen is printed.
  const { redact, visible } = require('@dockpush/core') as typeof import('@dockpush/core');
  const out = { write: (text: string) => io.stdout.write(redact(text)) };
  const err = { write: (text: string) => io.stderr.write(redact(text)) };
  const code = exitCodeFor(error);
  const known = error instanceof UsageError || isDockpushError(error);
  const message = (error as Error)?.message ?? String(error);

  if (json) {
    const body: Record<string, unknown> = {
      code: known ? (error as { code: string }).code : 'UNEXPECTED',
      message,
    };
    if (error instanceof UsageError) body.issues = error.issues;
    if (error && typeof error === 'object' && 'outcomes' in error) body.outcomes = error.outcomes;
    // The push landed but its result file could not be written: the result still goes out.
    if (error && typeof error === 'object' && 'result' in error) body.result = error.result;
    out.write(`${JSON.stringify({ error: body }, null, 2)}\n`);
  } else {
    // What landed, as a push that succeeded prints it: the result's tags, or those of the outcomes.
    const landed = error as
      | {
          result?: { pushed?: { uri: string; digest: string }[] };
          outcomes?: { status: string; uri: string; digest?: string }[];
        }
      | undefined;
    const pushed = landed?.result?.pushed ?? landed?.outcomes?.filter((o) => o.status === 'pushed') ?? [];
    for (const p of pushed) out.write(`${p.uri}@${p.digest}\n`);
  }

  if (error instanceof UsageError) {
    // Issues quote what was typed: its control characters are shown, never sent to the terminal.
    const issues = error.issues.map((i) => ({ where: visible(i.where), message: visible(i.message) }));
    const [only, ...more] = issues;
    const text =
      only && more.length === 0
        ? formatUsageIssue(only)
        : `invalid arguments:\n${issues.map((i) => `  ${formatUsageIssue(i)}`).join('\n')}`;
    err.write(`dockpush: ${text}\nSee dockpush --help for the options.\n`);
  } else if (code === EXIT.cancelled) {
    const outcomes = (error as { outcomes?: unknown[] }).outcomes ?? [];
    err.write(`dockpush: ${outcomes.length > 0 ? message : 'Push cancelled before any tag was pushed.'}\n`);
  } else if (known) {
    err.write(`dockpush: error: ${message}\n`);
  } else {
    err.write(`dockpush: unexpected error: ${message}\n${io.env.DEBUG ? '' : 'Set DEBUG=dockpush:* for details.\n'}`);
  }
  if (io.env.DEBUG) err.write(`${describeStack(error)}\n`);
  return code;
}

export function exitCodeFor(error: unknown): number {
  if (error instanceof UsageError) return EXIT.usage;
  if (isDockpushError(error)) {
    if (error.code === 'ARGUMENTS') return EXIT.usage;
    if (error.code === 'CANCELLED') return EXIT.cancelled;
  }
  return EXIT.failed;
}

/** Core's errors; core is loaded by then, since only a push throws them. */
function isDockpushError(error: unknown): error is DockpushError {
  if (!(error instanceof Error) || error instanceof UsageError) return false;
  const { DockpushError } = require('@dockpush/core') as typeof import('@dockpush/core');
  return error instanceof DockpushError;
}

function describeStack(error: unknown): string {
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; current && depth < 5; depth++) {
    parts.push(
      depth === 0
        ? String((current as Error).stack ?? current)
        : `Caused by: ${String((current as Error).stack ?? current)}`,
    );
    current = (current as { cause?: unknown }).cause;
  }
  return parts.join('\n');
}
