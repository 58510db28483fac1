/**
 * Text from a registry or the engine is printed by every adapter, so it must not carry
 * terminal control: an escape sequence could clear the screen or hide text, and a newline
 * could forge a line such as "pushed OK". These functions make such text inert.
 */

/* eslint-disable no-control-regex -- matching control characters is the point here. */
const ESCAPE_SEQUENCE = new RegExp(
  [
    // OSC, DCS, SOS, PM, APC: a string ended by BEL or ST (ESC \), or by the end of the text.
    '\\x1b[\\]PX^_][\\s\\S]*?(?:\\x07|\\x1b\\\\|$)',
    // CSI: ESC [ parameters, intermediates, final byte.
    '\\x1b\\[[0-?]*[ -/]*[@-~]?',
    // Any other escape: ESC, intermediates, one final byte.
    '\\x1b[ -/]*[0-~]?',
    // The 8-bit forms of CSI and the string controls.
    '\\x9b[0-?]*[ -/]*[@-~]?',
    '[\\x90\\x98\\x9d\\x9e\\x9f][\\s\\S]*?(?:\\x07|\\x9c|\\x1b\\\\|$)',
  ].join('|'),
  'g',
);
const LINE_BREAK = /\r\n|[\r\n\v\f\u0085\u2028\u2029]/g;
/** C0 and C1 controls, DEL, and the bidirectional overrides that reorder what is shown. */
const CONTROL = /[\x00-\x08\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/g;
/* eslint-enable no-control-regex */

/** `text` on one line, with no terminal control: sequences removed, line breaks and tabs as spaces. */
export function printable(text: string): string {
  return printableLines(text).replace(/\n/g, ' ');
}

/** Like `printable`, but keeps `\n`: for multi-line text dockpush composes itself. */
export function printableLines(text: string): string {
  return text.replace(ESCAPE_SEQUENCE, '').replace(LINE_BREAK, '\n').replace(/\t/g, ' ').replace(CONTROL, '');
}

// eslint-disable-next-line no-control-regex -- matching control characters is the point here.
const VISIBLE = /[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
const SHOWN: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/**
 * `text` on one line with every control character shown as an escape (`\n`, `\u001b`):
 * for messages that quote what the user gave, where silently dropping a character would
 * quote a value other than theirs ("ab" for `a<ESC>b`).
 */
export function visible(text: string): string {
  return text.replace(VISIBLE, (c) => SHOWN[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
