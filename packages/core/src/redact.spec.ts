import { defaultRedactor, redact, Redactor, redactValue, registerSecret } from './redact';

const b64 = (s: string) => Buffer.from(s).toString('base64');

describe('redact', () => {
  const secret = 'pa${ss}%w:o@rd+/?&= "\\\'é';
  beforeAll(() => registerSecret(secret, 'alice'));

  it.each([
    ['as written', secret],
    ['JSON-escaped', JSON.stringify(secret).slice(1, -1)],
    ['encodeURIComponent', encodeURIComponent(secret)],
    ['form-encoded', new URLSearchParams({ p: secret }).toString().slice(2)],
    ['base64', b64(secret)],
    ['base64url', Buffer.from(secret).toString('base64url')],
    ['base64 of user:secret', b64(`alice:${secret}`)],
  ])('removes the secret %s', (_, form) => {
    expect(redact(`before ${form} after`)).toBe('before *** after');
  });

  // The engine's X-Registry-Auth header is base64 of JSON holding the password at any offset.
  it.each([0, 1, 2, 3, 4, 5])('removes it from base64 of a JSON document with %i bytes before it', (pad) => {
    const header = b64(JSON.stringify({ username: 'alice'.slice(0, pad), password: secret, serveraddress: 'h' }));
    expect(redact(header)).toContain('***');
    const bytes = Buffer.from(secret);
    // No run of the secret's own base64 (at any alignment) is left.
    for (let shift = 0; shift < 3; shift++) {
      const inner = Buffer.concat([Buffer.alloc(shift), bytes])
        .toString('base64')
        .slice(3, -3);
      expect(redact(header)).not.toContain(inner);
    }
  });

  it('removes base64 of user:secret inside longer base64 text', () => {
    const text = b64(`x${JSON.stringify({ auth: `alice:${secret}` })}`);
    expect(redact(text)).toContain('***');
  });

  it('hides a Bearer or Basic credential a peer echoes, one dockpush never saw, and leaves words alone', () => {
    expect(redact('manifest invalid: bad request with header Bearer TOK-r10-SECRET-xyz')).toBe(
      'manifest invalid: bad request with header Bearer ***',
    );
    expect(redact('authorization: Basic dXNlcjpwYXNzd29yZA==; then')).toBe('authorization: Basic ***; then');
    expect(redact('Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln')).toBe('Bearer ***');
    expect(redact('the registry asks for Basic credentials, not Bearer realm="x"')).toBe(
      'the registry asks for Basic credentials, not Bearer realm="x"',
    );
  });

  it('ignores secrets too short to redact safely', () => {
    registerSecret('abc');
    expect(redact('abc abcd')).toBe('abc abcd');
  });

  it('redacts and makes printable the strings inside a value', () => {
    expect(redactValue({ error: `bad ${secret}\n\u001b[2Jpushed OK`, n: 1, list: [secret] })).toEqual({
      error: 'bad *** pushed OK',
      n: 1,
      list: ['***'],
    });
  });

  it('redacts a secret hidden by a control sequence inside it', () => {
    const [head, tail] = [secret.slice(0, 5), secret.slice(5)];
    expect(redactValue(`x ${head}\u001b[0m${tail} y`)).toBe('x *** y');
  });
});

describe('Redactor', () => {
  it('redacts only its own secrets, in every encoding, and redact() consults every live redactor', () => {
    const one = new Redactor();
    const two = new Redactor();
    one.add('first-client-secret', 'bob');
    two.add('second-client-secret');
    expect(one.redact('first-client-secret second-client-secret')).toBe('*** second-client-secret');
    expect(two.redact('first-client-secret second-client-secret')).toBe('first-client-secret ***');
    expect(one.redact(b64('bob:first-client-secret'))).toBe('***');
    expect(redact(`a first-client-secret b ${b64('x second-client-secret')}`)).not.toMatch(/client-secret/);
    expect(defaultRedactor.redact('first-client-secret')).toBe('first-client-secret');
  });

  it('replaces the longest form first, so a form inside another leaves nothing behind', () => {
    const redactor = new Redactor();
    redactor.add('inner-secret');
    redactor.add('outer-inner-secret-tail');
    expect(redactor.redact('x outer-inner-secret-tail y inner-secret z')).toBe('x *** y *** z');
  });

  it('treats characters that mean something in a pattern as plain text', () => {
    const redactor = new Redactor();
    redactor.add('a.b*c+d?(e)[f]{g}|h^$\\');
    expect(redactor.redact('a.b*c+d?(e)[f]{g}|h^$\\ axbbbc')).toBe('*** axbbbc');
  });
});
