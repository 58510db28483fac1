import { PassThrough } from 'node:stream';
import { readWithDeadline } from './deadline';

const expired = () => Object.assign(new Error('nothing for 100 ms'), { code: 'ETIMEDOUT' });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('readWithDeadline', () => {
  it('fails a stream that stops sending mid-way after the deadline, and closes the source', async () => {
    const source = new PassThrough();
    source.write(Buffer.alloc(1000, 1));
    const read: Buffer[] = [];
    const started = Date.now();
    const error = await (async () => {
      for await (const chunk of readWithDeadline(source, 100, expired)) read.push(chunk as Buffer);
    })().catch((e: unknown) => e);
    expect((error as Error).message).toBe('nothing for 100 ms');
    expect(Buffer.concat(read).length).toBe(1000);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(source.destroyed).toBe(true);
  });

  it('does not count the time its reader takes between reads', async () => {
    // The source sends a part every 200 ms; the reader takes 250 ms over each: it never waits.
    const source = new PassThrough();
    const parts = [Buffer.alloc(10, 1), Buffer.alloc(10, 2), Buffer.alloc(10, 3)];
    parts.forEach((part, i) =>
      setTimeout(() => (i === parts.length - 1 ? source.end(part) : source.write(part)), i * 200),
    );
    const read: Buffer[] = [];
    for await (const chunk of readWithDeadline(source, 100, expired)) {
      read.push(chunk as Buffer);
      await sleep(250); // an upload that keeps the reader busy
    }
    expect(read).toHaveLength(3);
    expect(Buffer.concat(read)).toEqual(Buffer.concat(parts));
  });

  it('ends at once when the signal aborts, with its reason', async () => {
    const source = new PassThrough();
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('cancelled')), 50);
    const started = Date.now();
    const error = await (async () => {
      for await (const _chunk of readWithDeadline(source, 60_000, expired, controller.signal));
    })().catch((e: unknown) => e);
    expect((error as Error).message).toBe('cancelled');
    expect(Date.now() - started).toBeLessThan(2000);
    expect(source.destroyed).toBe(true);
  });
});
