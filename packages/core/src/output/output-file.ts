import { access, constants, lstat, mkdir, realpath, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { ArgumentsError, OutputFileError } from '../errors';
import { redact, redactValue } from '../redact';

/**
 * The result file (`outputFile`): checked before anything is pushed, cleared of the previous
 * run's result, and written atomically (a temporary file in the same folder, then a rename), so
 * a reader never sees half a file and a symlink at the path is replaced, not followed.
 */

/** Where the system keeps devices and processes: never a place for the result. */
const SYSTEM_FOLDER = /^\/(dev|proc)\//;

/**
 * Fails with an `ArgumentsError` naming `outputFile` unless the result can be written to `file`:
 * not a folder, a device, a FIFO or a socket; under a folder (or where one can be made) that
 * may be written to.
 */
export async function checkOutputFile(file: string): Promise<void> {
  const path = resolve(file);
  const refuse = (message: string) => new ArgumentsError([{ path: 'outputFile', message }]);
  const existing = await lstat(path).catch(() => undefined);
  if (existing?.isDirectory()) {
    throw refuse(
      `${JSON.stringify(file)} is a folder; give the path of a file in it, e.g. ${JSON.stringify(join(file, 'result.json'))}`,
    );
  }
  if (existing && !existing.isFile() && !existing.isSymbolicLink()) {
    throw refuse(
      `${JSON.stringify(file)} is not a regular file (a device, FIFO or socket); give the path of a regular file to hold the result`,
    );
  }
  if (SYSTEM_FOLDER.test(path)) {
    throw refuse(
      `${JSON.stringify(file)} is under ${path.split('/').slice(0, 2).join('/')}, where the system keeps devices and processes, and writing the result replaces what is there; give the path of a regular file (the CLI's --json prints the result on stdout)`,
    );
  }
  if (existing?.isSymbolicLink()) {
    // A link is replaced, not followed: one to a device or a process's file (`/dev/stdout` →
    // `/proc/self/fd/1`) would be broken for every program, so it is refused.
    const target = await realpath(path).catch(() => undefined);
    const info = target === undefined ? undefined : await stat(target).catch(() => undefined);
    if (target !== undefined && (SYSTEM_FOLDER.test(target) || (info && !info.isFile()))) {
      throw refuse(
        `${JSON.stringify(file)} is a link to ${JSON.stringify(target)}, not to a regular file, and writing the result replaces the link; give the path of a regular file (the CLI's --json prints the result on stdout)`,
      );
    }
  }
  // The nearest folder that exists must be a folder we may write in; the rest is made.
  let ancestor = dirname(path);
  for (;;) {
    let info: Awaited<ReturnType<typeof stat>>;
    try {
      info = await stat(ancestor);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      // ENOTDIR: a file further up; keep climbing to name it.
      if ((code !== 'ENOENT' && code !== 'ENOTDIR') || dirname(ancestor) === ancestor) {
        throw refuse(
          `cannot use the folder of ${JSON.stringify(file)} (${code ?? 'unknown error'}); give a path in a folder you may write to`,
        );
      }
      ancestor = dirname(ancestor);
      continue;
    }
    if (!info.isDirectory()) {
      throw refuse(
        `${JSON.stringify(file)} is under ${JSON.stringify(ancestor)}, which is a file, not a folder; give a path in a folder`,
      );
    }
    break;
  }
  try {
    await access(ancestor, constants.W_OK);
  } catch {
    throw refuse(
      `cannot write in ${JSON.stringify(ancestor)} (permission denied); give a path in a folder you may write to`,
    );
  }
}

/** Removes the previous run's result, so that a failed push leaves no stale result that looks current. */
export async function clearOutputFile(file: string): Promise<void> {
  // `rm` on a symlink removes the link, never its target.
  await rm(resolve(file), { force: true });
}

/** Writes `value` as redacted JSON to `file`, atomically. */
export async function writeOutputFile(file: string, value: unknown): Promise<void> {
  const path = resolve(file);
  const folder = dirname(path);
  await mkdir(folder, { recursive: true });
  // Not to be guessed by another user of a shared folder (`wx` never writes through what is there).
  const { randomBytes } = require('node:crypto') as typeof import('node:crypto');
  const temporary = join(folder, `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    await writeFile(temporary, redact(JSON.stringify(value, null, 2)) + '\n', { flag: 'wx' });
    await rename(temporary, path);
  } catch (error) {
    // A name already taken is someone else's file: only a file this call made is removed.
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') await rm(temporary, { force: true });
    throw error;
  }
}

/**
 * Before anything is pushed: checks that the result can be written to `file`, and removes the
 * previous run's result, so that a failed push never leaves a file that looks current.
 */
export async function prepareOutputFile(file: string): Promise<void> {
  await checkOutputFile(file);
  await clearOutputFile(file);
}

/**
 * Writes the result (or a dry run's plan) to `file` when one is asked for; a failure is an
 * `OutputFileError` that still hands the result over.
 */
export async function saveResult(file: string | undefined, value: object): Promise<void> {
  if (file === undefined) return;
  try {
    await writeOutputFile(file, value);
  } catch (error) {
    const e = error as NodeJS.ErrnoException;
    throw new OutputFileError(file, redactValue(value), e.code ?? e.message, { cause: error });
  }
}
