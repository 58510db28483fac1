import { Readable } from 'node:stream';
import type Dockerode from 'dockerode';
import type { PushEvent } from './events';
import { printable, printableLines, visible } from './printable';

describe('printable', () => {
  it.each([
    ['a CSI sequence that clears the screen', 'a\u001b[2J\u001b[Hb', 'ab'],
    ['colours', '\u001b[31mred\u001b[0m', 'red'],
    ['an OSC title ended by BEL', 'x\u001b]0;pwned\u0007y', 'xy'],
    ['an OSC hyperlink ended by ST', '\u001b]8;;http://evil\u001b\\link\u001b]8;;\u001b\\', 'link'],
    ['an unterminated OSC', 'ok\u001b]0;rest', 'ok'],
    ['a two-byte escape', 'a\u001bcb', 'ab'],
    ['8-bit CSI', 'a\u009b2Jb', 'ab'],
    ['C0 controls and DEL', 'a\u0000\u0007\u0008\u007fb', 'ab'],
    ['bidirectional overrides', 'a\u202eb\u2066c', 'abc'],
    ['CR, LF and CRLF as spaces', 'error\r\n  ✔ pushed OK\rx\ny', 'error   ✔ pushed OK x y'],
    ['tabs as spaces', 'a\tb', 'a b'],
    ['Unicode line separators', 'a\u2028b\u2029c\u0085d', 'a b c d'],
    [
      'ordinary text unchanged',
      'denied: requested access to the resource is denied (é, ✔)',
      'denied: requested access to the resource is denied (é, ✔)',
    ],
  ])('removes %s', (_, input, expected) => {
    expect(printable(input)).toBe(expected);
  });

  it('keeps line breaks in multi-line text, as \\n only', () => {
    expect(printableLines('one\r\ntwo\u001b[2K\nthree\r')).toBe('one\ntwo\nthree\n');
  });
});

describe('text from the engine and the registry, through a push', () => {
  const IMAGE_ID = 'sha256:' + 'a'.repeat(64);
  /** What a hostile registry can make the engine relay: clear the screen, then forge a line. */
  const HOSTILE = 'denied\u001b[2J\u001b[H\r\n  ✔ localhost:5000/app:1 pushed (sha256:forged)\u001b]0;title\u0007';

  it('reaches the error and the progress events flattened and without control sequences', async () => {
    const { pushImage } = await import('./push-client');
    const { PushFailedError } = await import('./errors');
    const docker = {
      ping: async () => 'OK',
      getImage: () => ({
        inspect: async () => ({ Id: IMAGE_ID, RepoTags: ['localhost:5000/app:1'] }),
        push: async () => Readable.from([`${JSON.stringify({ errorDetail: { message: HOSTILE }, error: HOSTILE })}\n`]),
      }),
    } as unknown as Dockerode;
    const events: PushEvent[] = [];
    const error = await pushImage(
      { image: 'localhost:5000/app:1', retries: 0 },
      { docker, env: { HOME: '/nonexistent', DOCKER_CONFIG: '/nonexistent' }, onProgress: (e) => events.push(e) },
    ).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(PushFailedError);
    const { message, outcomes } = error as InstanceType<typeof PushFailedError>;
    const lines = message.split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatch(/^ {2}✖ localhost:5000\/app:1 failed after 1 attempt: denied/);
    const text = [message, JSON.stringify(outcomes), JSON.stringify(events)].join('');
    expect(text).not.toMatch(/\\u001b|\\u0007|\\r|\\n/);
    expect([...message].filter((c) => c < ' ' && c !== '\n')).toEqual([]);
    const failed = events.filter((e) => e.type === 'tag-failed');
    expect(failed).toHaveLength(1);
    expect([...JSON.stringify(failed)].filter((c) => c < ' ')).toEqual([]);
  });
});

describe('visible', () => {
  it.each([
    ['an escape', 'a\u001b[2Jb', 'a\\u001b[2Jb'],
    ['line breaks and tabs', 'a\r\nb\tc', 'a\\r\\nb\\tc'],
    ['C1 and DEL', 'a\u009b\u007fb', 'a\\u009b\\u007fb'],
    ['a bidirectional override', 'a\u202eb', 'a\\u202eb'],
    ['ordinary text unchanged', 'tags.0: "1.0" ✔ é', 'tags.0: "1.0" ✔ é'],
  ])('shows %s as an escape', (_, input, expected) => {
    expect(visible(input)).toBe(expected);
  });
});
