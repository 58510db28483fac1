import type { PushEvent } from '@dockpush/core';

/**
 * What a run has done so far, from its progress events: which tags landed and which
 * are being pushed right now. It lets a signal be answered truthfully without waiting
 * for core: how long the first one may take, and what the second one leaves behind.
 */
export class PushLedger {
  private readonly completed = new Map<string, string>();
  private readonly inFlight = new Set<string>();

  observe(event: PushEvent): void {
    switch (event.type) {
      case 'tag-started':
        this.inFlight.add(event.uri);
        break;
      case 'tag-done':
        this.inFlight.delete(event.uri);
        this.completed.set(event.uri, event.digest);
        break;
      case 'tag-failed':
        this.inFlight.delete(event.uri);
        break;
      // A retry follows: the tag is still being pushed (its last attempt may even have landed).
      case 'tag-retrying':
      default:
        break;
    }
  }

  /** Tags whose push the engine has begun and not finished. */
  get uploading(): number {
    return this.inFlight.size;
  }

  /**
   * The same as `--json` gives it, each tag as an outcome: pushed with its digest, or `unknown`
   * (it was being pushed, and may have landed).
   */
  outcomes(): Array<
    { tag: string; uri: string; status: 'pushed'; digest: string } | { tag: string; uri: string; status: 'unknown' }
  > {
    const tagOf = (uri: string) => uri.slice(uri.lastIndexOf(':') + 1);
    return [
      ...[...this.completed].map(([uri, digest]) => ({ tag: tagOf(uri), uri, status: 'pushed' as const, digest })),
      ...[...this.inFlight].map((uri) => ({ tag: tagOf(uri), uri, status: 'unknown' as const })),
    ];
  }

  /** The report of a run ended before core could say: what landed, and what may have. */
  describe(): string {
    const lines = [
      ...[...this.completed].map(([uri, digest]) => `  ✔ ${uri} pushed (${digest})`),
      ...[...this.inFlight].map((uri) => `  ? ${uri} was being pushed: unknown, it may have landed`),
    ];
    return lines.length > 0 ? `Tags so far:\n${lines.join('\n')}` : 'No tag had been pushed.';
  }
}
