/** One challenge of a `WWW-Authenticate` header: `Bearer realm="…",service="…"`. */
export interface AuthChallenge {
  /** Lower-cased: `basic`, `bearer`, … */
  scheme: string;
  /** Parameter names lower-cased, values unquoted. */
  params: Record<string, string>;
}

/**
 * Parses a `WWW-Authenticate` header (RFC 7235): several challenges may share one header,
 * separated by commas that also separate parameters, and quoted values may hold commas.
 */
export function parseChallenges(header: string | string[] | undefined): AuthChallenge[] {
  const text = Array.isArray(header) ? header.join(', ') : (header ?? '');
  const challenges: AuthChallenge[] = [];
  let i = 0;
  const skipSpaceAndCommas = () => {
    while (i < text.length && /[\s,]/.test(text[i] as string)) i++;
  };
  const token = () => {
    const start = i;
    while (i < text.length && /[!#$%&'*+\-.^_`|~0-9A-Za-z]/.test(text[i] as string)) i++;
    return text.slice(start, i);
  };
  while (i < text.length) {
    skipSpaceAndCommas();
    const scheme = token();
    if (!scheme) {
      i++;
      continue;
    }
    const challenge: AuthChallenge = { scheme: scheme.toLowerCase(), params: {} };
    challenges.push(challenge);
    for (;;) {
      const mark = i;
      skipSpaceAndCommas();
      const name = token();
      while (text[i] === ' ') i++;
      if (!name || text[i] !== '=') {
        // Not a parameter: the next challenge's scheme (or token68, which registries do not use).
        i = mark;
        break;
      }
      i++;
      while (text[i] === ' ') i++;
      let value = '';
      if (text[i] === '"') {
        i++;
        while (i < text.length && text[i] !== '"') {
          if (text[i] === '\\') i++;
          value += text[i] ?? '';
          i++;
        }
        i++;
      } else {
        value = token();
      }
      challenge.params[name.toLowerCase()] = value;
    }
    if (i === text.length) break;
  }
  return challenges;
}

/** The scope of a repository for a token: `repository:<path>:<actions>`. */
export function repositoryScope(path: string, actions: readonly string[]): string {
  return `repository:${path}:${actions.join(',')}`;
}
