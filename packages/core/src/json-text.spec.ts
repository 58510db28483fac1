import { JsonTextError, parseJsonText } from './json-text';

describe('parseJsonText', () => {
  it.each([
    '{"auths":{"h":{"auth":"YTpi"}},"n":[1,-2.5e3,true,false,null],"s":"a\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\ud83d\\ude00"}',
    ' [ ] ',
    '{"__proto__":{"polluted":1}}',
    '"just a string"',
    '0',
  ])('reads %s as JSON.parse does', (text) => {
    expect(parseJsonText(text)).toEqual(JSON.parse(text));
  });

  it('keeps a __proto__ key as data', () => {
    const value = parseJsonText('{"__proto__":{"polluted":1}}') as Record<string, unknown>;
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
    expect(Object.keys(value)).toEqual(['__proto__']);
  });

  it('reads a UTF-8 byte-order mark', () => {
    expect(parseJsonText('\uFEFF{"a":1}')).toEqual({ a: 1 });
  });

  it.each([
    ['{"auths": {"h": {"password":Sup3rS3cre}}}', 1, 29, 'expected a value'],
    ['{\n  "password": "Sup3rS3cre",\n}', 3, 1, 'a comma before "}"'],
    ['{\n  "password": "Sup3rS3cre"\n  "user": "x"}', 3, 3, 'expected "," or "}" after a value'],
    ['{"password": "Sup3rS3cre', 1, 14, 'a string that is never closed'],
    ['{"password": \'Sup3rS3cre\'}', 1, 14, 'single quotes'],
    ['{"password": "Sup3r\nS3cre"}', 1, 20, 'a control character'],
    ['{"password": "Sup3r\\qS3cre"}', 1, 20, 'an unknown escape'],
    ['{"password": "Sup3rS3cre"} Sup3rS3cre', 1, 28, 'unexpected text after the JSON value'],
    ['{Sup3rS3cre: 1}', 1, 2, 'expected a key in double quotes'],
    ['{"password" "Sup3rS3cre"}', 1, 13, 'expected ":" after a key'],
    ['', 1, 1, 'the text is empty'],
    ['[1, 2', 1, 6, 'the text ends inside an array'],
  ])('says where %j is wrong without quoting it', (text, line, column, problem) => {
    let error: unknown;
    try {
      parseJsonText(text);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(JsonTextError);
    const e = error as JsonTextError;
    expect({ line: e.line, column: e.column }).toEqual({ line, column });
    expect(e.message).toContain(problem);
    expect(e.message).not.toMatch(/Sup3r|S3cre/);
  });

  it('refuses nesting deep enough to exhaust the stack, with a clear error', () => {
    expect(() => parseJsonText('['.repeat(100_000))).toThrow(/nested deeper than 256 levels at line 1, column 257/);
  });

  it('refuses duplicate keys when asked, naming the key and its object', () => {
    const text = '{"args": {"repo": "a", "tags": ["1"], "repo": "b"}}';
    expect(parseJsonText(text)).toEqual({ args: { repo: 'b', tags: ['1'] } });
    let error: JsonTextError | undefined;
    try {
      parseJsonText(text, { rejectDuplicateKeys: true });
    } catch (e) {
      error = e as JsonTextError;
    }
    expect(error?.duplicate).toEqual({ path: 'args', key: 'repo' });
    expect(error?.message).toBe('duplicate key at line 1, column 39');
  });
});
