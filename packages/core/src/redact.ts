/**
 * Every secret dockpush handles (passwords, identity tokens, ECR tokens and the
 * encoded forms the engine sees) is registered here before it is used, so that any
 * text leaving core (error messages, progress events, debug logs) can be scrubbed.
 */
const secrets = new Set<string>();

const REDACTED = '***';

/** Registers a secret and the encodings of it that could leak (base64, `user:secret`). */
export function registerSecret(secret: string | undefined, username?: string): void {
  if (!secret || secret.length < 4) return;
  secrets.add(secret);
  secrets.add(Buffer.from(secret).toString('base64'));
  if (username !== undefined) {
    secrets.add(Buffer.from(`${username}:${secret}`).toString('base64'));
  }
}

/** Replaces every registered secret in `text` with `***`. */
export function redact(text: string): string {
  let out = text;
  // Longest first, so a secret contained in another is not half-replaced.
  for (const secret of [...secrets].sort((a, b) => b.length - a.length)) {
    if (out.includes(secret)) out = out.split(secret).join(REDACTED);
  }
  return out;
}

/** Deep-redacts strings inside a JSON-like value. */
export function redactValue<T>(value: T): T {
  if (typeof value === 'string') return redact(value) as T;
  if (Array.isArray(value)) return value.map((v) => redactValue(v)) as T;
  if (value && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactValue(v)])) as T;
  }
  return value;
}
