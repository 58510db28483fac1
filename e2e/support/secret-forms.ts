/**
 * Where a secret could show up in output: as written, JSON-escaped, URL-encoded, base64
 * (standard and URL-safe, whole or as a run inside longer base64 at any byte alignment,
 * of the secret or of `user:secret`). The checks are the tests' own, independent of
 * dockpush's redaction.
 */
export function secretForms(secret: string, user?: string): string[] {
  const written = [secret, JSON.stringify(secret).slice(1, -1)];
  const forms = new Set([
    ...written,
    encodeURIComponent(secret),
    new URLSearchParams({ s: secret }).toString().slice(2),
    ...written.flatMap(base64Runs),
    ...(user ? base64Runs(`${user}:${secret}`) : []),
  ]);
  return [...forms];
}

function base64Runs(text: string): string[] {
  const bytes = Buffer.from(text);
  const runs = [bytes.toString('base64'), bytes.toString('base64url')];
  for (let shift = 0; shift < 3; shift++) {
    const encoded = Buffer.concat([Buffer.alloc(shift), bytes]).toString('base64');
    const inner = encoded.slice(Math.ceil((shift * 8) / 6), Math.floor(((shift + bytes.length) * 8) / 6));
    runs.push(inner, inner.replace(/\+/g, '-').replace(/\//g, '_'));
  }
  return runs;
}

/** The forms of `secret` found in `text`, including any base64 run of `text` that decodes to hold it. */
export function leakedForms(text: string, secret: string, user?: string): string[] {
  const found = secretForms(secret, user).filter((form) => text.includes(form));
  for (const run of text.match(/[A-Za-z0-9+/_-]{12,}={0,2}/g) ?? []) {
    for (const encoding of ['base64', 'base64url'] as const) {
      if (Buffer.from(run, encoding).toString('latin1').includes(Buffer.from(secret).toString('latin1'))) {
        found.push(`base64 run decoding to the secret: ${run.slice(0, 8)}…`);
      }
    }
  }
  return found;
}
