import { existsSync, readFileSync } from 'node:fs';

/**
 * A JSON object from a workspace file (project.json, package.json), or `undefined` when
 * the file is missing, broken or not an object: a broken file is reported by the part of
 * Nx that owns it, not here.
 */
export function readJsonObject(file: string): Record<string, unknown> | undefined {
  if (!existsSync(file)) return undefined;
  try {
    const value: unknown = JSON.parse(readFileSync(file, 'utf8'));
    return value !== null && typeof value === 'object' ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
