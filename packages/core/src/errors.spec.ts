import {
  ArgumentsError,
  DockerUnavailableError,
  ImageNotFoundError,
  PushCancelledError,
  PushFailedError,
  RegistryAuthError,
} from './errors';
import type { TagOutcome } from './push-result';

/** Text a hostile registry or engine could send: clear the screen, then forge a line. */
const HOSTILE = 'denied\u001b[2J\u001b[H\r\n  ✔ localhost:5000/app:forged pushed (sha256:0)\u0007';
const FLAT = 'denied   ✔ localhost:5000/app:forged pushed (sha256:0)';
/** The same, as an argument issue quotes it: what the user gave, with its control characters shown. */
const SHOWN = 'denied\\u001b[2J\\u001b[H\\r\\n  ✔ localhost:5000/app:forged pushed (sha256:0)\\u0007';

describe('error messages carry no terminal control and no forged lines', () => {
  it('PushFailedError keeps its own lines and flattens each tag error', () => {
    const outcomes: TagOutcome[] = [
      { tag: '1', uri: 'localhost:5000/app:1', status: 'pushed', digest: 'sha256:a', size: 1, attempts: 1 },
      { tag: '2', uri: 'localhost:5000/app:2', status: 'failed', error: HOSTILE, attempts: 1 },
      { tag: '3', uri: 'localhost:5000/app:3', status: 'skipped', reason: `x\n${HOSTILE}` },
    ];
    const error = new PushFailedError(outcomes);
    expect(error.message.split('\n')).toEqual([
      '2 of 3 tags not pushed:',
      '  ✔ localhost:5000/app:1 pushed (sha256:a)',
      `  ✖ localhost:5000/app:2 failed after 1 attempt: ${FLAT}`,
      `  - localhost:5000/app:3 not pushed: x ${FLAT}`,
    ]);
    expect(error.outcomes[1]).toMatchObject({ error: FLAT });
    expect(error.outcomes[2]).toMatchObject({ reason: `x ${FLAT}` });
  });

  it('PushCancelledError flattens the outcomes it carries', () => {
    const error = new PushCancelledError([
      { tag: '2', uri: 'localhost:5000/app:2', status: 'failed', error: HOSTILE, attempts: 1 },
    ]);
    expect(error.outcomes[0]).toMatchObject({ error: FLAT });
  });

  it.each([
    [
      'RegistryAuthError',
      () => new RegistryAuthError('localhost:5000', HOSTILE),
      `Cannot authenticate to localhost:5000: ${FLAT}`,
    ],
    [
      'DockerUnavailableError',
      () => new DockerUnavailableError('tcp://h:1\n', HOSTILE),
      `Cannot reach the Docker engine at tcp://h:1  (${FLAT}).`,
    ],
    [
      'ImageNotFoundError',
      () => new ImageNotFoundError(`app\n${HOSTILE}`, 'Build it.'),
      `No local image "app ${FLAT}"`,
    ],
    ['ArgumentsError', () => new ArgumentsError([{ path: 'tags.0', message: HOSTILE }]), `tags.0: ${SHOWN}`],
  ])('%s', (_, make, start) => {
    const error = make();
    expect(error.message.startsWith(start)).toBe(true);
    expect([...error.message].filter((c) => c < ' ' || (c >= '\u007f' && c <= '\u009f'))).toEqual([]);
  });

  it('ArgumentsError shows the control characters of each issue it carries', () => {
    const error = new ArgumentsError([
      { path: 'repo', message: HOSTILE },
      { path: 'tags', message: 'ok' },
    ]);
    expect(error.issues).toEqual([
      { path: 'repo', message: SHOWN },
      { path: 'tags', message: 'ok' },
    ]);
    expect(error.message.split('\n')).toHaveLength(3);
  });
});
