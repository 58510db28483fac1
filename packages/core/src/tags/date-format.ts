/**
 * Formats a date with the moment.js tokens metadata-action's `{{date 'FORMAT'}}` users write:
 * `YYYY YY MM M DD D HH H mm m ss s SSS`, text in `[brackets]` kept as is. Any other letter
 * is an error rather than silently printed, so a typo cannot make an odd tag.
 */
export function formatDate(date: Date, format: string, timeZone = 'UTC'): string {
  const parts = dateParts(date, timeZone);
  const tokens: Record<string, string> = {
    YYYY: String(parts.year).padStart(4, '0'),
    YY: String(parts.year % 100).padStart(2, '0'),
    MM: pad2(parts.month),
    M: String(parts.month),
    DD: pad2(parts.day),
    D: String(parts.day),
    HH: pad2(parts.hour),
    H: String(parts.hour),
    mm: pad2(parts.minute),
    m: String(parts.minute),
    ss: pad2(parts.second),
    s: String(parts.second),
    SSS: String(date.getUTCMilliseconds()).padStart(3, '0'),
  };
  return format.replace(/\[([^\]]*)\]|YYYY|YY|SSS|MM|M|DD|D|HH|H|mm|m|ss|s|[A-Za-z]+/g, (token, literal?: string) => {
    if (literal !== undefined) return literal;
    const value = tokens[token];
    if (value === undefined) {
      throw new Error(
        `the date format token "${token}" is not supported; use YYYY, YY, MM, M, DD, D, HH, H, mm, m, ss, s, SSS, and [text] for literal letters`,
      );
    }
    return value;
  });
}

interface DateParts {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

function dateParts(date: Date, timeZone: string): DateParts {
  if (timeZone === 'UTC') {
    return {
      year: date.getUTCFullYear(),
      month: date.getUTCMonth() + 1,
      day: date.getUTCDate(),
      hour: date.getUTCHours(),
      minute: date.getUTCMinutes(),
      second: date.getUTCSeconds(),
    };
  }
  let formatter: Intl.DateTimeFormat;
  try {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
  } catch {
    throw new Error(`the time zone "${timeZone}" is unknown; use an IANA name such as UTC or Europe/Paris`);
  }
  const get = (type: Intl.DateTimeFormatPartTypes): number =>
    Number(formatter.formatToParts(date).find((p) => p.type === type)?.value ?? 0);
  return {
    year: get('year'),
    month: get('month'),
    day: get('day'),
    hour: get('hour'),
    minute: get('minute'),
    second: get('second'),
  };
}

function pad2(n: number): string {
  return String(n).padStart(2, '0');
}
