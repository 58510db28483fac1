import { readFileSync } from 'node:fs';
import path from 'node:path';
import { lockEntry, workspaceVersion, type WorkspacePackage } from './packages';

/**
 * Asserts that the scratch project at `dir` depends on `name` by version range, as
 * `npm install <name>` writes it, and that npm installed it and @dockpush/core from a
 * registry on loopback (the run's), never from a tarball or a link.
 */
export function expectInstalledFromNpmRegistry(dir: string, name: WorkspacePackage): void {
  const manifest = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as {
    dependencies: Record<string, string>;
  };
  expect(manifest.dependencies[name]).toBe(`^${workspaceVersion(name)}`);
  for (const installed of [name, '@dockpush/core'] as const) {
    const entry = lockEntry(dir, installed);
    expect(entry).toMatchObject({ version: workspaceVersion(installed), integrity: expect.stringMatching(/^sha512-/) });
    // From the registry (npm may leave its URL out of the lock), never a tarball or a link.
    expect(entry?.link).toBeUndefined();
    if (entry?.resolved !== undefined) expect(entry.resolved).toMatch(/^http:\/\/127\.0\.0\.1:\d+\//);
  }
}
