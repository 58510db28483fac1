import { PushLedger } from './push-ledger';

const uri = (tag: string) => `localhost:5000/app:${tag}`;
const digest = `sha256:${'a'.repeat(64)}`;

describe('PushLedger', () => {
  it('says which tags landed and which were being pushed, in words and as outcomes', () => {
    const ledger = new PushLedger();
    for (const tag of ['1', '2', '3', '4']) ledger.observe({ type: 'tag-started', tag, uri: uri(tag), attempt: 1 });
    ledger.observe({ type: 'tag-done', tag: '1', uri: uri('1'), digest, size: 1, durationMs: 1 });
    ledger.observe({ type: 'tag-failed', tag: '2', uri: uri('2'), error: 'denied' });
    // A tag being retried is still being pushed: its last attempt may even have landed.
    ledger.observe({ type: 'tag-retrying', tag: '3', uri: uri('3'), attempt: 2, delayMs: 200, reason: '503' });
    expect(ledger.uploading).toBe(2);
    expect(ledger.outcomes()).toEqual([
      { tag: '1', uri: uri('1'), status: 'pushed', digest },
      { tag: '3', uri: uri('3'), status: 'unknown' },
      { tag: '4', uri: uri('4'), status: 'unknown' },
    ]);
    expect(ledger.describe()).toBe(
      [
        'Tags so far:',
        `  ✔ ${uri('1')} pushed (${digest})`,
        `  ? ${uri('3')} was being pushed: unknown, it may have landed`,
        `  ? ${uri('4')} was being pushed: unknown, it may have landed`,
      ].join('\n'),
    );
  });

  it('says when no tag had been pushed', () => {
    expect(new PushLedger().describe()).toBe('No tag had been pushed.');
    expect(new PushLedger().outcomes()).toEqual([]);
  });
});
