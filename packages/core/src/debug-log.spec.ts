/**
 * `debug` is loaded on the first line written while DEBUG is set, never before, and what it
 * writes is redacted from its first line.
 */
const saved = process.env.DEBUG;
afterEach(() => {
  if (saved === undefined) delete process.env.DEBUG;
  else process.env.DEBUG = saved;
  jest.restoreAllMocks();
});

/** debug-log.ts with fresh modules, and how many times `debug` was loaded. */
function freshDebugLog(): {
  debugLog: typeof import('./debug-log').debugLog;
  redact: typeof import('./redact');
  loads: () => number;
} {
  let loads = 0;
  let loaded!: { debugLog: typeof import('./debug-log').debugLog; redact: typeof import('./redact') };
  // debug-log.ts requires debug when a line is first written, after this returns: from a registry
  // emptied of earlier tests' copies.
  jest.resetModules();
  jest.isolateModules(() => {
    jest.doMock('debug', () => {
      loads++;
      // One copy serves every test: it reads DEBUG now, as a fresh load would.
      const createDebug = jest.requireActual<{ enable: (namespaces: string) => void }>('debug');
      createDebug.enable(process.env.DEBUG ?? '');
      return createDebug;
    });
    loaded = { debugLog: require('./debug-log').debugLog, redact: require('./redact') };
  });
  return { ...loaded, loads: () => loads };
}

it('does not load debug while DEBUG is unset', () => {
  delete process.env.DEBUG;
  const { debugLog, loads } = freshDebugLog();
  const log = debugLog('dockpush:test');
  log('nothing %s', 'here');
  log('nor here');
  expect(loads()).toBe(0);
});

it('loads debug on the first line written once DEBUG is set (as debug.enable() sets it), redacted', () => {
  delete process.env.DEBUG;
  const { debugLog, redact, loads } = freshDebugLog();
  const log = debugLog('dockpush:test');
  log('before');
  const secret = 's3cr${e}t:@%41';
  redact.registerSecret(secret, 'user');
  process.env.DEBUG = 'dockpush:*';
  const lines: string[] = [];
  jest.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    lines.push(String(chunk));
    return true;
  });
  log('the password is %s', secret);
  expect(loads()).toBe(1);
  const output = lines.join('');
  expect(output).toContain('dockpush:test the password is');
  expect(output).not.toContain(secret);
});

it('writes nothing for a namespace DEBUG does not name', () => {
  process.env.DEBUG = 'other:*';
  const { debugLog } = freshDebugLog();
  const write = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
  debugLog('dockpush:test')('quiet');
  expect(write).not.toHaveBeenCalled();
});
