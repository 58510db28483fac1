import { printable, printableLines } from './printable';

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
