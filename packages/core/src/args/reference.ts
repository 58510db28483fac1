/**
 * Docker image references, after the grammar of distribution/reference:
 *
 *   reference := name [ ":" tag ] [ "@" digest ]
 *   name      := [domain "/"] path-component ["/" path-component]*
 */
const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN = `(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[0-9a-fA-F:]+\\])(?::[0-9]+)?`;
const PATH_COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
const TAG = '[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}';
const DIGEST = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}';

const TAG_RE = new RegExp(`^${TAG}$`);
const DOMAIN_RE = new RegExp(`^${DOMAIN}$`);
const PATH_COMPONENT_RE = new RegExp(`^${PATH_COMPONENT}$`);
const DIGEST_RE = new RegExp(`^${DIGEST}$`);

const MAX_NAME_LENGTH = 255;
export const DOCKER_HUB_HOST = 'docker.io';

export function isValidTag(tag: string): boolean {
  return TAG_RE.test(tag);
}

export interface ParsedReference {
  /** The repository as written (no tag, no digest). */
  repository: string;
  /** Registry host (`docker.io` when the name has no domain). */
  registry: string;
  /** The path below the registry (`library/` added for official Docker Hub images). */
  path: string;
  tag?: string;
  digest?: string;
}

/**
 * Parses a reference, returning `undefined` when it is not valid. The first component
 * is a registry domain when it holds a `.` or `:`, or is `localhost`, as in Docker.
 */
export function parseReference(reference: string): ParsedReference | undefined {
  let rest = reference;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST_RE.test(digest)) return undefined;
  }
  let tag: string | undefined;
  const lastColon = rest.lastIndexOf(':');
  if (lastColon > rest.lastIndexOf('/')) {
    tag = rest.slice(lastColon + 1);
    rest = rest.slice(0, lastColon);
    if (!isValidTag(tag)) return undefined;
  }
  if (rest.length === 0 || rest.length > MAX_NAME_LENGTH) return undefined;
  const parts = rest.split('/');
  let registry = DOCKER_HUB_HOST;
  const first = parts[0] ?? '';
  if (parts.length > 1 && (first.includes('.') || first.includes(':') || first === 'localhost')) {
    if (!DOMAIN_RE.test(first) || !hasValidPort(first)) return undefined;
    registry = first;
    parts.shift();
  }
  if (parts.length === 0 || !parts.every((p) => PATH_COMPONENT_RE.test(p))) return undefined;
  let path = parts.join('/');
  if (registry === DOCKER_HUB_HOST || registry === 'index.docker.io') {
    registry = DOCKER_HUB_HOST;
    if (parts.length === 1) path = `library/${path}`;
  }
  return { repository: rest, registry, path, ...(tag ? { tag } : {}), ...(digest ? { digest } : {}) };
}

/** A registry port, when written, is 1–65535. */
function hasValidPort(domain: string): boolean {
  const port = /:([0-9]+)$/.exec(domain)?.[1];
  return port === undefined || (Number(port) >= 1 && Number(port) <= 65535);
}

/** Quotes user text for a message: JSON escapes control characters, so it cannot forge lines. */
function quote(text: string): string {
  return JSON.stringify(text.length > 80 ? `${text.slice(0, 80)}…` : text);
}

/**
 * Whether a reference holds credentials (`user:password@host/…`, `https://user@host/…`).
 * Such a reference is refused without being quoted, since it may hold a password.
 */
export function holdsCredentials(reference: string): boolean {
  const withoutScheme = reference.replace(/^[A-Za-z][A-Za-z0-9+.-]*:\/\//, '');
  const firstComponent = withoutScheme.split('/')[0] ?? '';
  const at = firstComponent.indexOf('@');
  // `app@sha256:…` is a digest, not a user.
  return at >= 0 && !DIGEST_RE.test(withoutScheme.slice(withoutScheme.indexOf('@') + 1));
}

const CREDENTIALS_ADVICE =
  'holds credentials (user:password@ before the registry); they are not taken in a reference, ' +
  'where logs and process lists would show them: give them with auth ({ username, password }), ' +
  'or on the command line with --username and --password-stdin';

/** Why the registry part of a reference is wrong, when it is. */
function explainInvalidDomain(reference: string): string | undefined {
  const first = reference.split('/')[0] ?? '';
  if (!reference.includes('/') || !(first.includes('.') || first.includes(':') || first === 'localhost')) {
    return undefined;
  }
  const port = /:([0-9]+)$/.exec(first)?.[1];
  if (port !== undefined && !hasValidPort(first)) {
    return `${quote(reference)} has registry port ${port}; a port is a number from 1 to 65535`;
  }
  return undefined;
}

/** Source transports of other tools (skopeo's spelling), not taken as a source yet. */
const TRANSPORT_RE = /^(docker-archive|oci-archive|oci|docker-daemon|containers-storage|dir|docker):/;

/**
 * Why `reference` is not a local image reference (`name[:tag][@digest]`) or an image ID
 * (`sha256:<64 hex>`, or a hex prefix of at least 12 characters), or `undefined` when it is.
 */
export function explainInvalidImageReference(reference: string): string | undefined {
  if (reference.trim() === '') return 'must not be empty; give a local image such as "app:1.0" or an image ID';
  if (holdsCredentials(reference)) return CREDENTIALS_ADVICE;
  if (/^sha256:[0-9a-f]{64}$/.test(reference) || /^[0-9a-f]{12,64}$/.test(reference)) return undefined;
  const transport = TRANSPORT_RE.exec(reference)?.[1];
  // `oci:1` is also a valid name and tag; the archive transports are never image names.
  const valid = parseReference(reference) !== undefined;
  if (valid && !transport?.endsWith('-archive')) return undefined;
  if (transport) {
    return (
      `${quote(reference)} uses the ${transport}: transport, which dockpush does not read yet; ` +
      'give an image in the Docker engine: name[:tag][@digest] (e.g. "app:1.0") or an image ID (sha256:…)'
    );
  }
  const domain = explainInvalidDomain(reference);
  if (domain) return domain;
  if (/[A-Z]/.test(splitRepoTag(reference.split('@')[0] ?? '').repo)) {
    return `${quote(reference)} is not a valid image reference: repository names must be lowercase`;
  }
  return (
    `${quote(reference)} is not a valid image reference: expected a local image as ` +
    'name[:tag][@digest] (e.g. "app:1.0", "localhost:5000/app:1") or an image ID (sha256:…)'
  );
}

/**
 * Why `repository` is not a valid repository URI (no tag, no digest), or
 * `undefined` when it is.
 */
export function explainInvalidRepository(repository: string): string | undefined {
  if (repository.trim() === '') return 'must not be empty; give a repository such as "localhost:5000/app"';
  if (holdsCredentials(repository)) return CREDENTIALS_ADVICE;
  const parsed = parseReference(repository);
  if (!parsed) {
    const domain = explainInvalidDomain(repository);
    if (domain) return domain;
    if (/[A-Z]/.test(repository.split('/').slice(1).join('/') || repository)) {
      return `${quote(repository)} is not a valid repository: repository names must be lowercase`;
    }
    if (repository.length > MAX_NAME_LENGTH) {
      return `"${repository.slice(0, 40)}…" is not a valid repository: names are at most ${MAX_NAME_LENGTH} characters`;
    }
    return (
      `${quote(repository)} is not a valid repository: expected [registry[:port]/]name[/name…] ` +
      'with lowercase letters, digits and separators (. _ __ -), e.g. "localhost:5000/app"'
    );
  }
  if (parsed.digest) {
    return `${quote(repository)} includes a digest; give the repository alone and push by tag`;
  }
  if (parsed.tag) {
    return `${quote(repository)} includes a tag (":${parsed.tag}"); give the repository alone and put the tag in tags (--tag)`;
  }
  return undefined;
}

/** Splits `repo:tag` into its repository and tag (a registry port is not a tag). */
export function splitRepoTag(repoTag: string): { repo: string; tag: string | undefined } {
  const lastColon = repoTag.lastIndexOf(':');
  if (lastColon > repoTag.lastIndexOf('/')) {
    return { repo: repoTag.slice(0, lastColon), tag: repoTag.slice(lastColon + 1) };
  }
  return { repo: repoTag, tag: undefined };
}

/** The registry host of a repository (`docker.io` when none is written). */
export function registryHostOf(repository: string): string {
  return parseReference(repository)?.registry ?? DOCKER_HUB_HOST;
}
