import type { PushEvent } from '../events';
import { createProgressRenderer, detectProgressMode, formatBytes } from './progress-renderer';

const DIGEST = 'sha256:' + 'a'.repeat(64);

/** A large push: 3 layers, each reporting progress 500 times. */
function bigPush(): PushEvent[] {
  const events: PushEvent[] = [{ type: 'tag-started', tag: '1', uri: 'r/app:1', attempt: 1 }];
  for (const layer of ['l1', 'l2', 'l3']) {
    events.push(
      { type: 'layer', tag: '1', layer, state: 'preparing' },
      { type: 'layer', tag: '1', layer, state: 'waiting' },
    );
  }
  for (let i = 1; i <= 500; i++) {
    for (const layer of ['l1', 'l2'])
      events.push({ type: 'layer', tag: '1', layer, state: 'pushing', current: i * 1000, total: 500_000 });
  }
  events.push(
    { type: 'layer', tag: '1', layer: 'l1', state: 'pushed' },
    { type: 'layer', tag: '1', layer: 'l2', state: 'pushed' },
    { type: 'layer', tag: '1', layer: 'l3', state: 'exists' },
    { type: 'tag-done', tag: '1', uri: 'r/app:1', digest: DIGEST, size: 528, durationMs: 1234 },
  );
  return events;
}

describe('progress rendering', () => {
  it('prints one line per state change in lines mode, however long the push', () => {
    let out = '';
    const renderer = createProgressRenderer({ mode: 'lines', write: (t) => (out += t), prefix: '[push] ' });
    bigPush().forEach((e) => renderer.onProgress(e));
    renderer.close();
    expect(out.split('\n').filter(Boolean)).toEqual([
      '[push] pushing r/app:1',
      '[push]   l1 uploading 488 kB',
      '[push]   l2 uploading 488 kB',
      '[push]   l1 uploaded',
      '[push]   l2 uploaded',
      '[push]   l3 already in the registry',
      `[push] pushed r/app:1 ${DIGEST} (528 B manifest) in 1.2 s`,
    ]);
  });

  it('wraps the push in a GitHub Actions group when asked', () => {
    let out = '';
    const renderer = createProgressRenderer({ mode: 'lines', write: (t) => (out += t), githubGroups: true });
    bigPush().forEach((e) => renderer.onProgress(e));
    renderer.close();
    expect(out.startsWith('::group::docker push r/app\n')).toBe(true);
    expect(out.endsWith('::endgroup::\n')).toBe(true);
  });

  it('redraws live lines in place on a terminal, throttled', () => {
    let out = '';
    let now = 0;
    const renderer = createProgressRenderer({ mode: 'tty', write: (t) => (out += t), now: () => now });
    for (const e of bigPush()) {
      now += 1;
      renderer.onProgress(e);
    }
    renderer.close();
    const redraws = out.split('\x1b[').length - 1;
    expect(redraws).toBeLessThan(40);
    expect(out).toMatch(/l1 \[=*\s*\] \d+(\.\d)? kB\/488 kB [\d.]+ [kM]B\/s/);
    expect(out).toContain(`✔ pushed r/app:1 ${DIGEST}`);
  });

  it.each([
    [{ isTTY: true }, {}, 'tty'],
    [{ isTTY: true }, { CI: 'true' }, 'lines'],
    [{ isTTY: true }, { CI: 'false' }, 'tty'],
    [{ isTTY: true }, { TERM: 'dumb' }, 'lines'],
    [{ isTTY: false }, {}, 'lines'],
    [{}, {}, 'lines'],
  ])('detectProgressMode(%j, %j) = %s', (stream, env, mode) => expect(detectProgressMode(stream, env)).toBe(mode));

  it.each([
    [0, '0 B'],
    [1023, '1023 B'],
    [1536, '1.5 kB'],
    [200 * 1024 * 1024, '200 MB'],
  ])('formatBytes(%d) = %s', (n, s) => expect(formatBytes(n)).toBe(s));
});
