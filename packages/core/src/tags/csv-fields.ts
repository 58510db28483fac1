/**
 * Splits one rule line into its comma-separated fields, the way metadata-action reads its
 * inputs (a CSV record): a field that starts with `"` runs to the closing quote, so it may hold
 * commas (`"pattern=v(\d+),(\d+)"`), and `""` inside it is a literal quote.
 * Throws a plain `Error` with what is wrong; callers add which rule it was.
 */
export function splitCsvFields(line: string): string[] {
  const fields: string[] = [];
  let i = 0;
  while (i <= line.length) {
    while (line[i] === ' ' || line[i] === '\t') i++;
    if (line[i] === '"') {
      let value = '';
      i++;
      for (;;) {
        if (i >= line.length) throw new Error('a quoted field has no closing quote (")');
        if (line[i] === '"') {
          if (line[i + 1] === '"') {
            value += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        value += line[i];
        i++;
      }
      while (line[i] === ' ' || line[i] === '\t') i++;
      if (i < line.length && line[i] !== ',') throw new Error('a quoted field must end at a comma');
      fields.push(value);
    } else {
      const end = line.indexOf(',', i);
      const stop = end === -1 ? line.length : end;
      fields.push(line.slice(i, stop).trim());
      i = stop;
    }
    i++;
  }
  return fields.filter((field) => field.length > 0);
}

/** `key=value` → `[key, value]` (split at the first `=`, key lower-cased); a bare field → `[undefined, field]`. */
export function splitKeyValue(field: string): [string | undefined, string] {
  const at = field.indexOf('=');
  if (at <= 0) return [undefined, field.trim()];
  return [field.slice(0, at).trim().toLowerCase(), field.slice(at + 1).trim()];
}
