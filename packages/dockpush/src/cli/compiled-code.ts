import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import vm from 'node:vm';

/** A kept code file no run has used for this long is removed (when another is written). */
export const UNUSED_FOR_MS = 30 * 24 * 3600 * 1000;
/** A file read is marked used (its time set to now) at most this often. */
const MARK_USED_EVERY_MS = 24 * 3600 * 1000;

/** How Node wraps a CommonJS module's source, so that line numbers stay the file's own. */
const wrap = (source: string) => `(function (exports, require, module, __filename, __dirname) { ${source}\n});`;

/**
 * V8's compiled code for the bundle's modules, kept in one file per bundle (its sha256), Node
 * version, architecture and flags (`--max-old-space-size` in `NODE_OPTIONS` gets a file of its
 * own rather than a rewrite on every run), in the user's cache folder. A module's code is taken when it is compiled, and
 * V8 compiles a function only when it first runs: so the code is saved as the process exits,
 * for every module the run compiled, whenever one of them had no code kept or had it rejected
 * (after `--version`, the first push saves the code of the modules both used, as the push
 * compiled them). A file's first line lists its modules and a checksum of the code that follows.
 *
 * Files no run has read or written for `UNUSED_FOR_MS` (another dockpush or Node version's) are
 * removed when one is written, so upgrades do not pile them up.
 *
 * Only a regular file of the user's own is read, and a damaged one is not handed to V8 (which
 * does not check that the code is whole). Failing to read or write costs the compile, nothing
 * else. Someone who can write the user's cache folder can choose the code the CLI runs, as they
 * could with Node's own compile cache: the folder is made readable by the user alone.
 */
export class CompiledCode {
  private readonly file: string | undefined;
  private readonly kept = new Map<string, Buffer>();
  private readonly compiled = new Map<string, vm.Script>();
  private stale = false;

  constructor(dir: string | false, bundleSha256: string) {
    if (!dir) return;
    // V8 rejects code made under other flags (`v8.cachedDataVersionTag()`, whose module costs a
    // few milliseconds to load): the flags a process is started with name the file too.
    const flags = fnv1a(`${process.execArgv.join(' ')}\0${process.env.NODE_OPTIONS ?? ''}`);
    this.file = path.join(dir, `cli-${bundleSha256.slice(0, 32)}-${process.version}-${process.arch}-${flags}.bin`);
    try {
      this.read(this.file);
    } catch {
      this.kept.clear(); // none yet, or unreadable: compiled afresh and written again
    }
  }

  /** Compiles a module's source (with its kept code, if any) and runs it: its CommonJS wrapper. */
  run(key: string, source: string, filename: string): unknown {
    const cachedData = this.kept.get(key);
    const script = new vm.Script(wrap(source), { filename, ...(cachedData ? { cachedData } : {}) });
    if (!cachedData || script.cachedDataRejected) this.stale = true;
    this.compiled.set(key, script);
    return script.runInThisContext({ displayErrors: true });
  }

  /** Writes the code of every module this run compiled, if any had none kept (see above). */
  save(): void {
    if (!this.file || !this.stale) return;
    const modules: Record<string, [number, number]> = {};
    const parts: Buffer[] = [];
    let at = 0;
    const add = (key: string, data: Buffer) => {
      modules[key] = [at, data.length];
      parts.push(data);
      at += data.length;
    };
    for (const [key, script] of this.compiled) add(key, script.createCachedData());
    for (const [key, data] of this.kept) if (!this.compiled.has(key)) add(key, data);
    const data = Buffer.concat(parts);
    const header = Buffer.from(`${JSON.stringify({ modules, check: checksum(data) })}\n`);
    const partial = `${this.file}.${process.pid}-${Date.now().toString(36)}.tmp`;
    try {
      fs.mkdirSync(path.dirname(this.file), { recursive: true, mode: 0o700 });
      // `wx`: never through a file or link someone left at that name.
      fs.writeFileSync(partial, Buffer.concat([header, data]), { mode: 0o600, flag: 'wx' });
      fs.renameSync(partial, this.file);
      removeUnused(path.dirname(this.file));
    } catch {
      try {
        fs.rmSync(partial, { force: true });
      } catch {
        // the folder itself could not be made
      }
    }
  }

  private read(file: string): void {
    const fd = fs.openSync(file, 'r');
    try {
      const stat = fs.fstatSync(fd);
      if (!stat.isFile() || (process.getuid && stat.uid !== process.getuid())) return;
      if (Date.now() - stat.mtimeMs > MARK_USED_EVERY_MS) {
        const now = new Date();
        fs.futimesSync(fd, now, now);
      }
      const bytes = Buffer.allocUnsafe(stat.size);
      if (fs.readSync(fd, bytes, 0, stat.size, 0) !== stat.size) return;
      const newline = bytes.indexOf(10);
      const header = JSON.parse(bytes.subarray(0, newline).toString('utf8')) as {
        modules: Record<string, [number, number]>;
        check: string;
      };
      const data = bytes.subarray(newline + 1);
      if (checksum(data) !== header.check) return;
      for (const [key, [start, length]] of Object.entries(header.modules)) {
        this.kept.set(key, data.subarray(start, start + length));
      }
    } finally {
      fs.closeSync(fd);
    }
  }
}

/** Removes the kept code files in `dir` that no run has used for `UNUSED_FOR_MS`; failures are left be. */
function removeUnused(dir: string): void {
  const before = Date.now() - UNUSED_FOR_MS;
  for (const name of fs.readdirSync(dir)) {
    if (!/^cli-.*\.bin$/.test(name)) continue;
    const file = path.join(dir, name);
    try {
      if (fs.lstatSync(file).mtimeMs < before) fs.rmSync(file);
    } catch {
      // another run removed it, or it cannot be: either way not this run's concern
    }
  }
}

/**
 * A checksum of the kept code against damage (a bit flipped, a file cut short): zlib's CRC-32
 * where Node has it (20.15 and later), which loads in a fraction of the time `node:crypto` does
 * on a run that needs neither; else sha256.
 */
function checksum(data: Buffer): string {
  const { crc32 } = require('node:zlib') as { crc32?: (data: Buffer) => number };
  if (crc32) return `crc32:${crc32(data).toString(16)}`;
  const { createHash } = require('node:crypto') as typeof import('node:crypto');
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

/** FNV-1a, 32 bits, as 8 hex digits: names a file, protects nothing. */
function fnv1a(text: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193);
  return (hash >>> 0).toString(16).padStart(8, '0');
}

/**
 * `$XDG_CACHE_HOME/dockpush/compiled`, else `~/.cache/dockpush/compiled` (beside the registry
 * engine's blob info cache); `false` when `NODE_DISABLE_COMPILE_CACHE` is set, as Node's own
 * compile cache reads it, or when there is no home folder to put it in.
 */
export function compiledCodeDir(env: NodeJS.ProcessEnv): string | false {
  if (env.NODE_DISABLE_COMPILE_CACHE) return false;
  try {
    return path.join(env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'dockpush', 'compiled');
  } catch {
    return false;
  }
}
