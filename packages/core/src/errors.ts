import { printable, printableLines, visible } from './printable';
import type { TagOutcome } from './push-result';
import { redact } from './redact';

/** The base of every error dockpush throws on purpose. */
export abstract class DockpushError extends Error {
  /** A short machine-readable code, stable across versions. */
  abstract readonly code: string;

  /**
   * Subclasses make text from the engine, a registry or a helper printable (`printable`)
   * before composing it; the whole message is then stripped of terminal control and redacted.
   */
  constructor(message: string, options?: { cause?: unknown }) {
    super(redact(printableLines(redact(message))), options);
    this.name = new.target.name;
  }
}

/** One problem with the arguments: which field, and what is wrong with it. */
export interface ArgumentIssue {
  /** Dotted path of the field, e.g. `ecrRepo.repoName`; empty for the whole object. */
  path: string;
  message: string;
}

/** The arguments or configuration are wrong; nothing was pushed. */
export class ArgumentsError extends DockpushError {
  readonly code = 'ARGUMENTS';
  readonly issues: ArgumentIssue[];

  constructor(issues: ArgumentIssue[] | string, options?: { cause?: unknown }) {
    const list = (typeof issues === 'string' ? [{ path: '', message: issues }] : issues).map((i) => ({
      // Issues quote what the user gave: control characters are shown, not dropped.
      path: visible(i.path),
      message: redact(visible(redact(i.message))),
    }));
    super(formatIssues(list), options);
    this.issues = list;
  }
}

function formatIssues(issues: ArgumentIssue[]): string {
  if (issues.length === 1 && issues[0]) return formatIssue(issues[0]);
  return `Invalid dockpush arguments:\n${issues.map((i) => `  ✖ ${formatIssue(i)}`).join('\n')}`;
}

function formatIssue(issue: ArgumentIssue): string {
  return issue.path ? `${issue.path}: ${issue.message}` : issue.message;
}

/** The Docker engine could not be reached. */
export class DockerUnavailableError extends DockpushError {
  readonly code = 'DOCKER_UNAVAILABLE';
  constructor(
    readonly dockerHost: string,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(
      `Cannot reach the Docker engine at ${printable(dockerHost)} (${printable(detail)}). ` +
        'Start Docker, or set DOCKER_HOST to an engine that is running.',
      options,
    );
  }
}

/** A local image the push needs is not in the engine. */
export class ImageNotFoundError extends DockpushError {
  readonly code = 'IMAGE_NOT_FOUND';
  /** The missing references, joined with ", " when there are several. */
  readonly reference: string;

  constructor(references: string | string[], hint: string, options?: { cause?: unknown }) {
    const list = (typeof references === 'string' ? [references] : references).map(printable);
    super(
      list.length === 1
        ? `No local image "${list[0]}" in the Docker engine. ${hint}`
        : `No local images ${list.map((r) => `"${r}"`).join(', ')} in the Docker engine. ${hint}`,
      options,
    );
    this.reference = list.join(', ');
  }
}

/** No credentials the registry accepts: it refused them, or they could not be had (a failing helper, AWS). */
export class RegistryAuthError extends DockpushError {
  readonly code = 'REGISTRY_AUTH';
  constructor(
    readonly registry: string,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(`Cannot authenticate to ${printable(registry)}: ${printable(detail)}`, options);
  }
}

/** One or more tags failed to push; `outcomes` holds every tag's outcome. */
export class PushFailedError extends DockpushError {
  readonly code = 'PUSH_FAILED';
  readonly outcomes: TagOutcome[];

  constructor(outcomes: TagOutcome[], options?: { cause?: unknown }) {
    const safe = outcomes.map(printableOutcome);
    super(describeOutcomes(safe), options);
    this.outcomes = safe;
  }

  /** Tags that did reach the registry before the failure. */
  get pushed(): Extract<TagOutcome, { status: 'pushed' }>[] {
    return this.outcomes.filter((o) => o.status === 'pushed');
  }
}

function describeOutcomes(outcomes: TagOutcome[]): string {
  const failed = outcomes.filter((o) => o.status !== 'pushed');
  const lines = outcomes.map((o) => {
    switch (o.status) {
      case 'pushed':
        return `  ✔ ${o.uri} pushed (${o.digest})`;
      case 'failed':
        return `  ✖ ${o.uri} failed after ${o.attempts} attempt${o.attempts === 1 ? '' : 's'}: ${o.error}`;
      case 'skipped':
        return `  - ${o.uri} not pushed: ${o.reason}`;
    }
  });
  return `${failed.length} of ${outcomes.length} tag${outcomes.length === 1 ? '' : 's'} not pushed:\n${lines.join('\n')}`;
}

/** The push was cancelled through its AbortSignal. */
export class PushCancelledError extends DockpushError {
  readonly code = 'CANCELLED';
  readonly outcomes: TagOutcome[];

  constructor(outcomes: TagOutcome[]) {
    outcomes = outcomes.map(printableOutcome);
    const done = outcomes.filter((o) => o.status === 'pushed').length;
    super(
      done === 0
        ? 'Push cancelled before any tag was pushed.'
        : `Push cancelled. ${done} of ${outcomes.length} tags had completed:\n` +
            outcomes
              .map(
                (o) =>
                  `  ${o.status === 'pushed' ? '✔' : '-'} ${o.uri} ${o.status === 'pushed' ? o.digest : 'not pushed'}`,
              )
              .join('\n'),
    );
    this.outcomes = outcomes;
  }
}

/** An outcome whose text (the engine's or registry's error) is redacted and on one printable line. */
function printableOutcome(outcome: TagOutcome): TagOutcome {
  const clean = (text: string) => redact(printable(redact(text)));
  switch (outcome.status) {
    case 'pushed':
      return outcome;
    case 'failed':
      return { ...outcome, error: clean(outcome.error) };
    case 'skipped':
      return { ...outcome, reason: clean(outcome.reason) };
  }
}

/**
 * The push landed but its result could not be written to `outputFile`. `result` holds what was
 * pushed (or planned), so the caller can still report every digest.
 */
export class OutputFileError extends DockpushError {
  readonly code = 'OUTPUT_FILE';
  constructor(
    readonly path: string,
    readonly result: unknown,
    detail: string,
    options?: { cause?: unknown },
  ) {
    const pushed = describePushedOf(result);
    super(
      `${pushed ? `${pushed}, but the` : 'The'} result could not be written to ${path} (${detail}). ` +
        'Check that the file can be written (free space, permissions), or give another outputFile (--output-file).',
      options,
    );
  }
}

function describePushedOf(result: unknown): string {
  const pushed = (result as { pushed?: { uri: string; digest: string }[] } | undefined)?.pushed;
  if (!Array.isArray(pushed)) return '';
  return `Pushed ${pushed.length} tag${pushed.length === 1 ? '' : 's'} (${pushed.map((p) => `${p.uri}@${p.digest}`).join(', ')})`;
}

/**
 * The `onProgress` listener threw: no new tag was started after it did, the tags in flight were
 * let finish, and `outcomes` says what landed. `cause` is what the listener threw.
 */
export class ProgressListenerError extends DockpushError {
  readonly code = 'PROGRESS_LISTENER';
  constructor(
    readonly outcomes: TagOutcome[],
    options: { cause: unknown },
  ) {
    const done = outcomes.filter((o) => o.status === 'pushed');
    const thrown = options.cause instanceof Error ? options.cause.message : String(options.cause);
    super(
      `The onProgress listener threw (${thrown}), so dockpush started no further tag; ` +
        `${done.length} of ${outcomes.length} tag${outcomes.length === 1 ? '' : 's'} had been pushed` +
        `${done.length > 0 ? `: ${done.map((o) => `${o.uri}@${o.digest}`).join(', ')}` : ''}. ` +
        'Fix the listener (it must not throw), then push again.',
      options,
    );
  }
}
