/** A semantic version, as https://semver.org/ defines it. */
export interface SemVer {
  /** The text as given, e.g. `v1.2.3-rc.1`. */
  raw: string;
  /** `major.minor.patch[-prerelease]`, without a leading `v` or build metadata. */
  version: string;
  major: number;
  minor: number;
  patch: number;
  /** Pre-release identifiers (`['rc', '1']`); empty for a release. */
  prerelease: string[];
  build: string[];
}

const NUMERIC = '0|[1-9]\\d*';
const PRERELEASE_ID = `(?:${NUMERIC}|\\d*[a-zA-Z-][a-zA-Z0-9-]*)`;
const BUILD_ID = '[0-9A-Za-z-]+';
const SEMVER_RE = new RegExp(
  `^v?(${NUMERIC})\\.(${NUMERIC})\\.(${NUMERIC})` +
    `(?:-(${PRERELEASE_ID}(?:\\.${PRERELEASE_ID})*))?` +
    `(?:\\+(${BUILD_ID}(?:\\.${BUILD_ID})*))?$`,
);

/**
 * Parses a version strictly (a leading `v` allowed, as in git tags), matching what node-semver's
 * `valid()` accepts; `undefined` when it is not a semantic version (`v1.2`, `1.02.3`).
 */
export function parseSemVer(text: string): SemVer | undefined {
  const raw = text.trim();
  if (raw.length > 256) return undefined;
  const m = SEMVER_RE.exec(raw);
  if (!m) return undefined;
  const [major, minor, patch] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (![major, minor, patch].every(Number.isSafeInteger)) return undefined;
  const prerelease = m[4] ? m[4].split('.') : [];
  return {
    raw: text,
    version: `${major}.${minor}.${patch}${prerelease.length > 0 ? `-${prerelease.join('.')}` : ''}`,
    major,
    minor,
    patch,
    prerelease,
    build: m[5] ? m[5].split('.') : [],
  };
}
