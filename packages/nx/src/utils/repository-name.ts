/**
 * A Docker repository path component made from an Nx project name: Docker allows only
 * lowercase letters, digits and single separators (`.`, `_`, `__`, `-`), while project
 * names may be `@org/api` or `My App`. `@org/api` becomes `org/api`, keeping the scope
 * as a namespace the way npm users expect.
 */
export function dockerRepositoryName(projectName: string): string {
  const name = projectName
    .toLowerCase()
    .replace(/^@/, '')
    .split('/')
    .map((part) =>
      part
        .replace(/[^a-z0-9._-]+/g, '-')
        .replace(/[._-]{2,}/g, (run) => (run === '__' ? run : (run[0] ?? '-')))
        .replace(/^[._-]+|[._-]+$/g, ''),
    )
    .filter((part) => part.length > 0)
    .join('/');
  return name || 'app';
}
