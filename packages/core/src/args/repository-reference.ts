import { parseReference } from './reference';

/**
 * A repository parsed once from the arguments and carried through plan, credentials,
 * engine and result: the registry it lives in and its path there are read from it,
 * never cut from the string again.
 */
export class RepositoryReference {
  private constructor(
    /** The repository as written, e.g. `myorg/my-service` or `localhost:5000/team/app`. */
    private readonly written: string,
    /** Registry host: `docker.io` when none is written, with its port when one is. */
    readonly registry: string,
    /** The repository's name inside its registry (`library/` added for official Docker Hub images). */
    readonly path: string,
  ) {}

  /** Parses a repository (no tag, no digest); `undefined` when it is not one. */
  static parse(repository: string): RepositoryReference | undefined {
    const parsed = parseReference(repository);
    if (!parsed || parsed.tag !== undefined || parsed.digest !== undefined) return undefined;
    return new RepositoryReference(parsed.repository, parsed.registry, parsed.path);
  }

  /** The tag URI `<repository>:<tag>`, as the engine and the result name it. */
  withTag(tag: string): string {
    return `${this.written}:${tag}`;
  }

  /** The repository as written. */
  toString(): string {
    return this.written;
  }
}
