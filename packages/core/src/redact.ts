/**
 * Every secret dockpush handles (passwords, identity tokens, ECR tokens and the
 * encoded forms the engine sees) is added to a `Redactor` before it is used, so that any
 * text leaving core (error messages, progress events, debug logs) can be scrubbed.
 *
 * A push client owns one redactor, and its credential session adds what it reads there;
 * the secrets go when the client goes. `redact()` consults every redactor still alive, so
 * text made where no client is at hand (an error's message, a library's debug line) is
 * scrubbed of every secret any live client holds. Callers with no client add to the
 * process's default redactor (`registerSecret`).
 */
import { printable } from './printable';

const REDACTED = '***';

/** Encoded fragments shorter than this are not redacted: they would hit ordinary text. */
const MIN_FORM_LENGTH = 4;

/** The secrets of one owner, with the matcher for all their forms built when one is added. */
export class Redactor {
  private readonly forms = new Set<string>();
  /** Every form, longest first (so a form inside another is not half-replaced); none yet: `undefined`. */
  private matcher: RegExp | undefined;

  constructor() {
    live.add(new WeakRef(this));
  }

  /**
   * Adds a secret and every encoding of it that could leak: as written, JSON-escaped,
   * URL-encoded (`encodeURIComponent` and form encoding), and base64 (standard and URL-safe)
   * at each of the three byte alignments, so it is found inside longer base64 text such as
   * the engine's `X-Registry-Auth` header (base64 of a JSON object holding the secret).
   * Base64 is taken of the secret both as written and JSON-escaped. With a username,
   * `base64(user:secret)` too, as Docker configs hold it.
   */
  add(secret: string | undefined, username?: string): void {
    if (!secret || secret.length < 4) return;
    const size = this.forms.size;
    for (const form of encodingsOf(secret)) this.addForm(form);
    if (username !== undefined) {
      for (const form of writtenForms(`${username}:${secret}`).flatMap(base64Forms)) this.addForm(form);
    }
    if (this.forms.size === size) return;
    const sorted = [...this.forms].sort((a, b) => b.length - a.length);
    this.matcher = new RegExp(sorted.map(escapeRegExp).join('|'), 'g');
  }

  /** `text` with every form of this redactor's secrets replaced by `***`. */
  redact(text: string): string {
    return this.matcher ? text.replace(this.matcher, REDACTED) : text;
  }

  private addForm(form: string): void {
    if (form.length >= MIN_FORM_LENGTH) this.forms.add(form);
  }
}

/** Every redactor not yet collected; the default one is held for the life of the process. */
const live = new Set<WeakRef<Redactor>>();

/** The redactor of callers that have no client. */
export const defaultRedactor = new Redactor();

/** Adds a secret to the process's default redactor (see `Redactor.add`). */
export function registerSecret(secret: string | undefined, username?: string): void {
  defaultRedactor.add(secret, username);
}

/** The secret as written and as it appears inside a JSON string (the engine's auth header is JSON). */
function writtenForms(secret: string): string[] {
  const escaped = JSON.stringify(secret).slice(1, -1);
  return escaped === secret ? [secret] : [secret, escaped];
}

function encodingsOf(secret: string): string[] {
  const written = writtenForms(secret);
  return [
    ...written,
    encodeURIComponent(secret),
    new URLSearchParams({ s: secret }).toString().slice(2),
    ...written.flatMap(base64Forms),
  ];
}

/**
 * Base64 of `text` as it appears at each byte offset (mod 3) inside longer data: only the
 * characters that depend on `text` alone, plus the whole padded encoding.
 */
function base64Forms(text: string): string[] {
  const bytes = Buffer.from(text);
  const out: string[] = [bytes.toString('base64'), bytes.toString('base64url')];
  for (let shift = 0; shift < 3; shift++) {
    const encoded = Buffer.concat([Buffer.alloc(shift), bytes]).toString('base64');
    const start = Math.ceil((shift * 8) / 6);
    const end = Math.floor(((shift + bytes.length) * 8) / 6);
    const inner = encoded.slice(start, end);
    out.push(inner, inner.replace(/\+/g, '-').replace(/\//g, '_'));
  }
  return out;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * An HTTP credential as a peer may echo it back in an error (`Bearer <token>`, `Basic <base64>`):
 * one dockpush never saw, such as the token the Docker engine got for its own push, is hidden too.
 * A word (`Basic credentials`) is not a credential: one holds a digit or a sign.
 */
const AUTHORIZATION_VALUE = /\b(Bearer|Basic)(\s+)([A-Za-z0-9._~+/-]{8,}=*)/gi;

function hideAuthorizationValues(text: string): string {
  return text.replace(AUTHORIZATION_VALUE, (whole, scheme: string, space: string, value: string) =>
    /[0-9._~+/=-]/.test(value) ? `${scheme}${space}${REDACTED}` : whole,
  );
}

/**
 * Replaces every secret of every live redactor, in every encoding, in `text` with `***`, and
 * the credential of any `Bearer`/`Basic` authorization value.
 */
export function redact(text: string): string {
  let out = hideAuthorizationValues(text);
  for (const ref of live) {
    const redactor = ref.deref();
    if (redactor) out = redactor.redact(out);
    else live.delete(ref);
  }
  return out;
}

/**
 * Deep-redacts strings inside a JSON-like value, and makes each printable on one line:
 * these values (progress events) carry text from the engine and the registry.
 */
export function redactValue<T>(value: T): T {
  // Redacted again after: a control sequence inside a secret could have hidden it.
  if (typeof value === 'string') return redact(printable(redact(value))) as T;
  if (Array.isArray(value)) return value.map((v) => redactValue(v)) as T;
  if (value && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactValue(v)])) as T;
  }
  return value;
}
