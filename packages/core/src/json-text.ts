/**
 * A JSON parser for files that may hold secrets (Docker configs, `--config` files).
 * `JSON.parse` quotes the text around a syntax error (`"password":Sup3rS3cre`); this one
 * says only where the error is and what kind it is. It also reads a UTF-8 byte-order
 * mark, and can refuse duplicate keys, which `JSON.parse` keeps silently (last wins).
 */

/** A syntax error, or a duplicate key, at a line and column (both from 1). Quotes nothing of the text. */
export class JsonTextError extends Error {
  constructor(
    /** What is wrong, e.g. `expected "," or "}" after a value`. */
    readonly problem: string,
    readonly line: number,
    readonly column: number,
    /** For a duplicate key: the dotted path of the object holding it, and the key. */
    readonly duplicate?: { path: string; key: string },
  ) {
    super(`${problem} at line ${line}, column ${column}`);
    this.name = 'JsonTextError';
  }
}

export interface ParseJsonOptions {
  /** Refuse an object that gives the same key twice (JSON.parse keeps the last). */
  rejectDuplicateKeys?: boolean;
}

/** Parses JSON text like `JSON.parse`, with errors that never quote the text. */
export function parseJsonText(text: string, options: ParseJsonOptions = {}): unknown {
  return new JsonReader(text.startsWith('\uFEFF') ? text.slice(1) : text, options).document();
}

const ESCAPES: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };
const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
// eslint-disable-next-line no-control-regex -- the characters a JSON string may hold unescaped.
const PLAIN = /[^"\\\u0000-\u001f]*/y;
/** Deeper nesting than this is refused rather than exhausting the stack. */
const MAX_DEPTH = 256;

class JsonReader {
  private at = 0;

  constructor(
    private readonly text: string,
    private readonly options: ParseJsonOptions,
  ) {}

  document(): unknown {
    this.space();
    if (this.at >= this.text.length) throw this.error('the text is empty; expected a JSON value');
    const value = this.value('');
    this.space();
    if (this.at < this.text.length) throw this.error('unexpected text after the JSON value');
    return value;
  }

  private value(path: string, depth = 0): unknown {
    const c = this.text[this.at];
    if ((c === '{' || c === '[') && depth >= MAX_DEPTH) throw this.error(`nested deeper than ${MAX_DEPTH} levels`);
    if (c === '{') return this.object(path, depth + 1);
    if (c === '[') return this.array(path, depth + 1);
    if (c === '"') return this.string();
    if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) return this.number();
    for (const [word, value] of [
      ['true', true],
      ['false', false],
      ['null', null],
    ] as const) {
      if (this.text.startsWith(word, this.at)) {
        this.at += word.length;
        return value;
      }
    }
    throw this.error(
      c === undefined
        ? 'the text ends where a value was expected'
        : c === "'"
          ? 'a string in single quotes; JSON strings take double quotes'
          : 'expected a value (a string in double quotes, a number, true, false, null, an object or an array)',
    );
  }

  private object(path: string, depth: number): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    const seen = new Set<string>();
    this.at++;
    this.space();
    if (this.eat('}')) return out;
    for (;;) {
      if (this.text[this.at] !== '"') {
        throw this.error(
          this.text[this.at] === undefined ? 'the text ends inside an object' : 'expected a key in double quotes',
        );
      }
      const keyAt = this.at;
      const key = this.string();
      if (seen.has(key) && this.options.rejectDuplicateKeys) {
        this.at = keyAt;
        throw this.error(`duplicate key`, { path, key });
      }
      seen.add(key);
      this.space();
      if (!this.eat(':')) throw this.error('expected ":" after a key');
      this.space();
      // Defined, not assigned, so that a "__proto__" key is data, as with JSON.parse.
      Object.defineProperty(out, key, {
        value: this.value(path ? `${path}.${key}` : key, depth),
        enumerable: true,
        writable: true,
        configurable: true,
      });
      if (this.endOrComma('}', 'an object')) return out;
    }
  }

  private array(path: string, depth: number): unknown[] {
    const out: unknown[] = [];
    this.at++;
    this.space();
    if (this.eat(']')) return out;
    for (;;) {
      out.push(this.value(`${path}[${out.length}]`, depth));
      if (this.endOrComma(']', 'an array')) return out;
    }
  }

  /**
   * After a member of an object or array: true at its closing `close`, false after a comma that another member
   * follows; throws on anything else, and on a comma right before `close`.
   */
  private endOrComma(close: '}' | ']', inside: string): boolean {
    this.space();
    if (this.eat(close)) return true;
    if (!this.eat(',')) {
      throw this.error(
        this.text[this.at] === undefined
          ? `the text ends inside ${inside}`
          : `expected "," or "${close}" after a value`,
      );
    }
    this.space();
    if (this.text[this.at] === close) throw this.error(`a comma before "${close}"; remove it`);
    return false;
  }

  private string(): string {
    const start = this.at;
    this.at++;
    let out = '';
    for (;;) {
      PLAIN.lastIndex = this.at;
      const plain = PLAIN.exec(this.text)?.[0] ?? '';
      out += plain;
      this.at += plain.length;
      const c = this.text[this.at];
      if (c === '"') {
        this.at++;
        return out;
      }
      if (c === undefined) {
        this.at = start;
        throw this.error('a string that is never closed');
      }
      if (c !== '\\') {
        throw this.error('a control character (such as a line break) inside a string; write it escaped, e.g. \\n');
      }
      const e = this.text[this.at + 1];
      if (e === 'u') {
        const hex = this.text.slice(this.at + 2, this.at + 6);
        if (!/^[0-9a-fA-F]{4}$/.test(hex)) throw this.error('a \\u escape needs four hexadecimal digits');
        out += String.fromCharCode(parseInt(hex, 16));
        this.at += 6;
      } else if (e !== undefined && ESCAPES[e] !== undefined) {
        out += ESCAPES[e];
        this.at += 2;
      } else {
        throw this.error('an unknown escape in a string; write a backslash as \\\\');
      }
    }
  }

  private number(): number {
    NUMBER.lastIndex = this.at;
    const match = NUMBER.exec(this.text);
    if (!match) throw this.error('a malformed number');
    this.at += match[0].length;
    return Number(match[0]);
  }

  private space(): void {
    while (this.at < this.text.length && ' \t\n\r'.includes(this.text[this.at] as string)) this.at++;
  }

  private eat(char: string): boolean {
    if (this.text[this.at] !== char) return false;
    this.at++;
    return true;
  }

  private error(problem: string, duplicate?: { path: string; key: string }): JsonTextError {
    const before = this.text.slice(0, this.at);
    const line = before.split('\n').length;
    const column = this.at - (before.lastIndexOf('\n') + 1) + 1;
    return new JsonTextError(problem, line, column, duplicate);
  }
}
