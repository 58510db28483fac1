import { Readable } from 'node:stream';
import type { PushEvent } from '../events';
import { EnginePushError, type EngineMessage, PushStreamParser, readJsonStream } from './push-stream';

const DIGEST = 'sha256:' + 'ab'.repeat(32);

async function parse(
  messages: Array<EngineMessage | string>,
): Promise<{ events: PushEvent[]; parser: PushStreamParser }> {
  const events: PushEvent[] = [];
  const parser = new PushStreamParser('1.0', (e) => events.push(e));
  // Split the stream mid-message to prove the reader buffers partial lines.
  const text = messages.map((m) => (typeof m === 'string' ? m : JSON.stringify(m))).join('\r\n') + '\r\n';
  const cut = Math.floor(text.length / 2);
  await readJsonStream(Readable.from([Buffer.from(text.slice(0, cut)), Buffer.from(text.slice(cut))]), (m) =>
    parser.handle(m),
  );
  return { events, parser };
}

describe('PushStreamParser', () => {
  it('takes the digest and size from the aux message', async () => {
    const { parser } = await parse([
      { status: 'The push refers to repository [localhost:5000/app]' },
      { status: `1.0: digest: sha256:${'cd'.repeat(32)} size: 999` },
      { progressDetail: {}, aux: { Tag: '1.0', Digest: DIGEST, Size: 528 } },
    ]);
    expect(parser.finish()).toEqual({ digest: DIGEST, size: 528 });
  });

  it('falls back to the status line when there is no aux message', async () => {
    const { parser } = await parse([{ status: `1.0: digest: ${DIGEST} size: 1234` }]);
    expect(parser.finish()).toEqual({ digest: DIGEST, size: 1234 });
  });

  it.each([
    [
      {
        errorDetail: { message: 'unauthorized: authentication required' },
        error: 'unauthorized: authentication required',
      },
      'unauthorized: authentication required',
    ],
    [{ error: 'Get "http://127.0.0.1:1/v2/": dial tcp: connection refused' }, 'connection refused'],
    [{ errorDetail: { message: 'blob upload unknown' } }, 'blob upload unknown'],
  ])('fails on an error event after HTTP 200, even with a digest before it: %j', async (error, text) => {
    const { parser } = await parse([
      { status: 'Preparing', id: 'aaa' },
      { status: `1.0: digest: ${DIGEST} size: 1` },
      error,
    ]);
    expect(() => parser.finish()).toThrow(EnginePushError);
    expect(() => parser.finish()).toThrow(text);
  });

  it('fails a stream that ends without a digest', async () => {
    const { parser } = await parse([{ status: 'Preparing', id: 'aaa' }]);
    expect(() => parser.finish()).toThrow('without reporting a digest');
  });

  it('fails on an unreadable line rather than ignoring it', async () => {
    const { parser } = await parse(['{not json', { aux: { Digest: DIGEST, Size: 1 } }]);
    expect(() => parser.finish()).toThrow('unreadable engine message');
  });

  it('turns layer statuses into typed events', async () => {
    const { events } = await parse([
      { status: 'Preparing', id: 'l1' },
      { status: 'Waiting', id: 'l1' },
      { status: 'Pushing', id: 'l1', progressDetail: { current: 512, total: 2048 } },
      { status: 'Pushed', id: 'l1' },
      { status: 'Layer already exists', id: 'l2' },
      { status: 'Mounted from other/app', id: 'l3' },
      { status: 'Retrying in 5 seconds', id: 'l4' },
    ]);
    expect(events).toEqual([
      { type: 'layer', tag: '1.0', layer: 'l1', state: 'preparing' },
      { type: 'layer', tag: '1.0', layer: 'l1', state: 'waiting' },
      { type: 'layer', tag: '1.0', layer: 'l1', state: 'pushing', current: 512, total: 2048 },
      { type: 'layer', tag: '1.0', layer: 'l1', state: 'pushed' },
      { type: 'layer', tag: '1.0', layer: 'l2', state: 'exists' },
      { type: 'layer', tag: '1.0', layer: 'l3', state: 'exists' },
    ]);
  });
});

describe('readJsonStream limits', () => {
  it('ends a stream that stays silent past the idle deadline, with the given error', async () => {
    const stream = new Readable({ read() {} });
    stream.push('{"status":"Preparing","id":"l1"}\n');
    const seen: EngineMessage[] = [];
    const started = Date.now();
    await expect(
      readJsonStream(stream, (m) => seen.push(m), { idleMs: 100, onIdle: () => new Error('silent for 100 ms') }),
    ).rejects.toThrow('silent for 100 ms');
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(seen).toEqual([{ status: 'Preparing', id: 'l1' }]);
    expect(stream.destroyed).toBe(true);
  });

  it('refuses a line larger than the bound, having read little more than the bound', async () => {
    let produced = 0;
    const chunk = Buffer.alloc(64 * 1024, 'a');
    // An endless line without a newline, as a broken or hostile engine could send.
    const stream = new Readable({
      read() {
        produced += chunk.length;
        this.push(chunk);
      },
    });
    const pending = readJsonStream(stream, () => undefined);
    await expect(pending).rejects.toBeInstanceOf(EnginePushError);
    await expect(pending).rejects.toThrow(/sent a line of progress larger than 1 MiB/);
    expect(produced).toBeLessThan(4 * 1024 * 1024);
    expect(stream.destroyed).toBe(true);
  });

  it('reads a line split over many chunks, and several lines in one chunk', async () => {
    const line = JSON.stringify({ status: 'x'.repeat(200_000) });
    const pieces = line.match(/[\s\S]{1,1000}/g) ?? [];
    const seen: EngineMessage[] = [];
    await readJsonStream(Readable.from([...pieces, '\n{"status":"a"}\n{"status":"b"}']), (m) => seen.push(m));
    expect(seen.map((m) => m.status?.length)).toEqual([200_000, 1, 1]);
  });
});
