import type { LayerState, PushEvent } from '../events';

/**
 * Turns push events into what a person reads. It writes only through the `write`
 * function its adapter gives it (stderr for the CLI, Nx's logger, Gulp's log…):
 * core itself never prints.
 *
 * - `tty`: one live line per layer with bytes and rate, redrawn in place, and a
 *   summary line per tag;
 * - `lines` (CI, pipes): one line per state change that matters — a layer starting
 *   to upload, a layer done, a tag done — so a push of any size prints a bounded
 *   number of lines.
 */
export type ProgressMode = 'tty' | 'lines';

export interface ProgressRendererOptions {
  write: (text: string) => void;
  mode: ProgressMode;
  /** Put before every line, e.g. `[docker-push] `. */
  prefix?: string;
  /** Wrap the push in GitHub Actions log groups. */
  githubGroups?: boolean;
  /** Clock, for tests. */
  now?: () => number;
}

export interface ProgressRenderer {
  onProgress(event: PushEvent): void;
  /** Finishes the live area (call once, after the push ends either way). */
  close(): void;
}

/** `tty` for an interactive terminal outside CI, else `lines`. */
export function detectProgressMode(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): ProgressMode {
  const ci = env.CI !== undefined && env.CI !== '' && env.CI !== 'false' && env.CI !== '0';
  return stream.isTTY && !ci && env.TERM !== 'dumb' ? 'tty' : 'lines';
}

export function createProgressRenderer(options: ProgressRendererOptions): ProgressRenderer {
  return options.mode === 'tty' ? new LiveRenderer(options) : new LineRenderer(options);
}

const short = (layer: string) => layer.slice(0, 12);

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

export function formatDuration(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`;
}

/** Lines common to both modes; undefined for events that have none. */
function summaryLine(event: PushEvent): string | undefined {
  switch (event.type) {
    case 'tagged':
      return `tagged ${event.source} as ${event.uri}`;
    case 'repository-created':
      return `created repository ${event.repository}`;
    case 'notice':
      return event.message;
    case 'tag-retrying':
      return `retrying ${event.uri} (attempt ${event.attempt + 1}${event.delayMs ? ` in ${formatDuration(event.delayMs)}` : ''}): ${event.reason}`;
    case 'tag-done':
      return `pushed ${event.uri} ${event.digest} (${formatBytes(event.size)} manifest) in ${formatDuration(event.durationMs)}`;
    case 'tag-failed':
      return `failed ${event.uri}: ${event.error}`;
    default:
      return undefined;
  }
}

class LineRenderer implements ProgressRenderer {
  private readonly seen = new Map<string, LayerState>();
  private readonly started = new Set<string>();
  private grouped = false;

  constructor(private readonly o: ProgressRendererOptions) {}

  private line(text: string) {
    this.o.write(`${this.o.prefix ?? ''}${text}\n`);
  }

  onProgress(event: PushEvent): void {
    if (event.type === 'tag-started') {
      if (this.o.githubGroups && !this.grouped) {
        this.o.write(`::group::docker push ${event.uri.slice(0, event.uri.lastIndexOf(':'))}\n`);
        this.grouped = true;
      }
      if (!this.started.has(event.tag)) this.line(`pushing ${event.uri}`);
      this.started.add(event.tag);
      return;
    }
    if (event.type === 'layer') {
      const key = `${event.tag} ${event.layer}`;
      const state = event.state === 'preparing' || event.state === 'waiting' ? undefined : event.state;
      if (!state || this.seen.get(key) === state) return;
      this.seen.set(key, state);
      if (state === 'pushing') {
        this.line(`  ${short(event.layer)} uploading${event.total ? ` ${formatBytes(event.total)}` : ''}`);
      } else {
        this.line(`  ${short(event.layer)} ${state === 'exists' ? 'already in the registry' : 'uploaded'}`);
      }
      return;
    }
    const text = summaryLine(event);
    if (text) this.line(text);
  }

  close(): void {
    if (this.grouped) this.o.write('::endgroup::\n');
    this.grouped = false;
  }
}

interface LiveLayer {
  tag: string;
  layer: string;
  state: LayerState;
  current: number;
  total: number;
  startedAt: number;
}

class LiveRenderer implements ProgressRenderer {
  private readonly layers = new Map<string, LiveLayer>();
  private drawn = 0;
  private lastDraw = 0;
  private readonly now: () => number;

  constructor(private readonly o: ProgressRendererOptions) {
    this.now = o.now ?? Date.now;
  }

  onProgress(event: PushEvent): void {
    if (event.type === 'tag-started') return;
    if (event.type === 'layer') {
      const key = `${event.tag} ${event.layer}`;
      const layer = this.layers.get(key) ?? {
        tag: event.tag,
        layer: event.layer,
        state: event.state,
        current: 0,
        total: 0,
        startedAt: this.now(),
      };
      if (event.state === 'pushing' && layer.state !== 'pushing') layer.startedAt = this.now();
      layer.state = event.state;
      if (event.current !== undefined) layer.current = event.current;
      if (event.total !== undefined) layer.total = event.total;
      if (event.state === 'pushed' && layer.total) layer.current = layer.total;
      this.layers.set(key, layer);
      // Redraw at most ten times a second, but always on a state change.
      if (event.state === 'pushing' && this.now() - this.lastDraw < 100) return;
      this.draw();
      return;
    }
    const text = summaryLine(event);
    if (!text) return;
    if (event.type === 'tag-done' || event.type === 'tag-failed') {
      for (const [key, layer] of this.layers) if (layer.tag === event.tag) this.layers.delete(key);
    }
    this.clear();
    this.o.write(
      `${this.o.prefix ?? ''}${event.type === 'tag-done' ? '✔' : event.type === 'tag-failed' ? '✖' : '•'} ${text}\n`,
    );
    this.draw();
  }

  private clear() {
    if (this.drawn > 0) this.o.write(`\x1b[${this.drawn}A\x1b[J`);
    this.drawn = 0;
  }

  private draw() {
    this.clear();
    const lines = [...this.layers.values()].map((l) => this.layerLine(l));
    if (lines.length > 0) this.o.write(lines.map((l) => `${this.o.prefix ?? ''}${l}\n`).join(''));
    this.drawn = lines.length;
    this.lastDraw = this.now();
  }

  private layerLine(l: LiveLayer): string {
    const head = `  ${l.tag} ${short(l.layer)}`;
    switch (l.state) {
      case 'preparing':
        return `${head} preparing`;
      case 'waiting':
        return `${head} waiting`;
      case 'exists':
        return `${head} already in the registry`;
      case 'pushed':
        return `${head} uploaded ${l.total ? formatBytes(l.total) : ''}`.trimEnd();
      case 'pushing': {
        const seconds = Math.max(0.001, (this.now() - l.startedAt) / 1000);
        const pct = l.total ? Math.floor((l.current / l.total) * 100) : 0;
        const width = 20;
        const filled = Math.round((pct / 100) * width);
        return `${head} [${'='.repeat(filled)}${' '.repeat(width - filled)}] ${formatBytes(l.current)}/${formatBytes(l.total)} ${formatBytes(l.current / seconds)}/s`;
      }
    }
  }

  close(): void {
    this.clear();
  }
}
