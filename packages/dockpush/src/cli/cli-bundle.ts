import { createHash } from 'node:crypto';
import fs from 'node:fs';
import Module, { builtinModules, createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import vm from 'node:vm';

/**
 * The CLI as one file. Started from the tree `tsc` writes, a push loads about a hundred modules,
 * and Node resolves, reads and compiles each: some 80 ms of every run, a third of a small push.
 * The build therefore writes the CLI's modules, and those of `@dockpush/core` it reaches, into
 * one file (`writeCliBundle`), and the `dockpush` command runs that (`runCliBundle`), keeping
 * V8's compiled code for it in the user's cache so that the next run compiles nothing.
 *
 * A module in the bundle behaves as in the tree: it is evaluated when first required, once; its
 * `__filename` and `__dirname` are those of its file in the installed package; and it resolves
 * other packages (`debug`, `dockerode`, the AWS SDK…) from there, so a layout that lets only
 * `@dockpush/core` see its own dependencies (pnpm's) works the same.
 */

/** The bundle's file name, beside this module in `dist/cli/`. */
export const CLI_BUNDLE = 'dockpush-cli.js';

/** A bundled module's key: its package's name, then its path in that package (`dockpush/dist/cli/run.js`). */
type Key = string;

// ---------------------------------------------------------------- writing (at build time)

export interface BundleInput {
  /** The first module run (`…/dist/cli/main.js`). */
  entry: string;
  /** The packages whose modules go in, by name: their folders. Modules of other packages stay outside. */
  packages: Record<string, string>;
  /** The file to write. */
  out: string;
}

const REQUIRE_CALL = /\brequire\((["'])([^"'\n]+)\1\)/g;

/**
 * Writes the bundle: every module reachable from `entry` through `require("…")` calls with a
 * literal argument (all `tsc` writes, dynamic `import()` included) that resolves into one of
 * `packages`. The file is one expression: an object from each key to the module's requests that
 * are bundled (request → key) and its code as a function of the usual CommonJS arguments, with
 * the keys of the bundle itself (`self`) and of the first module (`entry`).
 */
export function writeCliBundle({ entry, packages, out }: BundleInput): { modules: number; bytes: number } {
  const roots = Object.entries(packages).map(([name, dir]) => [name, fs.realpathSync(dir) + path.sep] as const);
  const keyOf = (file: string): Key | undefined => {
    const real = fs.realpathSync(file);
    const root = roots.find(([, dir]) => real.startsWith(dir));
    const inPackage = root && real.slice(root[1].length).split(path.sep);
    // A package's own dependencies, installed in its folder, are not its modules.
    return root && inPackage && !inPackage.includes('node_modules') ? `${root[0]}/${inPackage.join('/')}` : undefined;
  };
  const entryKey = keyOf(entry);
  fs.writeFileSync(out, '');
  const self = keyOf(out);
  if (!entryKey || !self) {
    throw new Error(`cli bundle: ${entry} and ${out} must both be in one of ${Object.keys(packages).join(', ')}`);
  }

  const files = new Map<Key, string>([[entryKey, fs.realpathSync(entry)]]);
  const parts: string[] = [];
  for (const [key, file] of files) {
    const source = fs.readFileSync(file, 'utf8');
    const links: Record<string, Key> = {};
    if (!file.endsWith('.json')) {
      const resolve = createRequire(file).resolve;
      for (const [, , request] of source.matchAll(REQUIRE_CALL)) {
        if (request === undefined || request.startsWith('node:') || builtinModules.includes(request)) continue;
        let resolved: string;
        try {
          resolved = resolve(request);
        } catch (error) {
          // A package that is not installed stays outside, as it would be required at run time;
          // a missing file of the bundle's own is a broken build.
          if (!request.startsWith('.')) continue;
          throw new Error(`cli bundle: ${key} requires ${request}, which does not resolve: ${String(error)}`);
        }
        const target = keyOf(resolved);
        if (!target) continue;
        links[request] = target;
        if (!files.has(target)) files.set(target, fs.realpathSync(resolved));
      }
    }
    parts.push(`${JSON.stringify(key)}: [${JSON.stringify(links)}, ${moduleFunction(file, source)}]`);
  }
  const text =
    '// The dockpush CLI as one file, written by the build (src/cli/cli-bundle.ts). Do not edit.\n' +
    `({ self: ${JSON.stringify(self)}, entry: ${JSON.stringify(entryKey)}, modules: {\n${parts.join(',\n')}\n} })\n`;
  fs.writeFileSync(out, text);
  return { modules: files.size, bytes: Buffer.byteLength(text) };
}

/** A module's code as the function Node would wrap it in (a JSON file: its value). */
function moduleFunction(file: string, source: string): string {
  const body = file.endsWith('.json')
    ? `module.exports = ${source.trim()};`
    : source
        .replace(/^#!/, '//#!')
        // Source maps point into the tree's files, not into the bundle.
        .replace(/^\/\/# sourceMappingURL=.*$/m, '');
  return `function (exports, require, module, __filename, __dirname) {${body}\n}`;
}

/** The build's bundle: `dist/cli/main.js` and what it reaches of this package and `@dockpush/core`. */
export function writeDefaultCliBundle(): { modules: number; bytes: number } {
  const root = path.resolve(__dirname, '..', '..');
  const core = path.dirname(createRequire(path.join(root, 'package.json')).resolve('@dockpush/core/package.json'));
  return writeCliBundle({
    entry: path.join(__dirname, 'main.js'),
    packages: { dockpush: root, '@dockpush/core': core },
    out: path.join(__dirname, CLI_BUNDLE),
  });
}

if (require.main === module) {
  const { modules, bytes } = writeDefaultCliBundle();
  process.stdout.write(`${CLI_BUNDLE}: ${modules} modules, ${Math.round(bytes / 1024)} KiB\n`);
}

// ---------------------------------------------------------------- running

type Factory = (exports: unknown, require: NodeJS.Require, module: Module, filename: string, dirname: string) => void;
interface Bundle {
  self: Key;
  entry: Key;
  modules: Record<Key, [Record<string, Key>, Factory]>;
}

/** `@scope/name/dist/x.js` → [`@scope/name`, `dist/x.js`]; `name/dist/x.js` → [`name`, `dist/x.js`]. */
function splitKey(key: Key): [string, string] {
  const slash = key.indexOf('/', key.startsWith('@') ? key.indexOf('/') + 1 : 0);
  return [key.slice(0, slash), key.slice(slash + 1)];
}

/**
 * The folder of package `name` as Node would find it from `from`: the first `node_modules/<name>`
 * up the tree, its links followed. A layout without such folders (Yarn's Plug'n'Play) asks Node.
 */
function installedFrom(from: string, name: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'node_modules', name);
    if (fs.existsSync(path.join(candidate, 'package.json'))) return fs.realpathSync(candidate);
    if (path.dirname(dir) === dir) break;
  }
  return path.dirname(createRequire(path.join(from, 'package.json')).resolve(`${name}/package.json`));
}

/** Internal to Node, but stable since its first versions: the `node_modules` folders a file looks in. */
const nodeModulePaths = (Module as unknown as { _nodeModulePaths(from: string): string[] })._nodeModulePaths;

/**
 * Runs the bundle (by default the one beside this file) from its first module; returns that
 * module's exports.
 * `cacheDir` holds V8's compiled code; `false` compiles from source every time.
 */
export function runCliBundle({
  bundle = path.join(__dirname, CLI_BUNDLE),
  cacheDir = compiledCodeDir(process.env),
  atExit = (save) => process.once('exit', save),
}: {
  bundle?: string;
  cacheDir?: string | false;
  /** Where the compiled code is saved from: the process's `exit` (tests call it themselves). */
  atExit?: (save: () => void) => void;
} = {}): unknown {
  const source = fs.readFileSync(bundle, 'utf8');
  const compiled = compile(source, bundle, cacheDir);
  const { self, entry, modules } = compiled.value as Bundle;
  // Where each bundled package is installed: the bundle's own holds it, the others resolve from there.
  const [ownName, ownPath] = splitKey(self);
  const here = bundle.slice(0, bundle.length - ownPath.length - 1);
  const installed = new Map<string, string>([[ownName, here]]);
  const packageDir = (name: string): string => {
    let dir = installed.get(name);
    if (!dir) {
      dir = installedFrom(here, name);
      installed.set(name, dir);
    }
    return dir;
  };
  const main = require.main;
  const loaded = new Map<Key, Module>();
  const cache = (Module as unknown as { _cache: NodeJS.Dict<Module> })._cache;
  const resolveFilename = (
    Module as unknown as {
      _resolveFilename(request: string, parent: Module, isMain: boolean, options?: { paths?: string[] }): string;
    }
  )._resolveFilename;

  function load(key: Key, parent: Module | undefined): unknown {
    const done = loaded.get(key);
    if (done) return done.exports;
    const [links, factory] = modules[key] as Bundle['modules'][Key];
    const [name, inPackage] = splitKey(key);
    const filename = path.join(packageDir(name), ...inPackage.split('/'));
    const module = new Module(filename, parent);
    module.filename = filename;
    module.paths = nodeModulePaths(path.dirname(filename));
    loaded.set(key, module);
    // Anything else that requires this file by its path gets this instance, as from the tree.
    cache[filename] = module;
    const require = ((request: string) => {
      const link = links[request];
      return link === undefined ? module.require(request) : load(link, module);
    }) as NodeJS.Require;
    require.resolve = ((request: string, options?: { paths?: string[] }) =>
      resolveFilename(request, module, false, options)) as NodeJS.RequireResolve;
    require.cache = cache;
    if (main) require.main = main;
    try {
      factory.call(module.exports, module.exports, require, module, filename, path.dirname(filename));
    } catch (error) {
      // As Node does: a module that threw is not kept, and a later require evaluates it again.
      loaded.delete(key);
      delete cache[filename];
      throw error;
    }
    module.loaded = true;
    return module.exports;
  }

  atExit(() => compiled.save(loaded.keys()));
  return load(entry, main);
}

/**
 * V8's compiled code for the bundle, kept in `cacheDir` for this exact source (its sha256 names
 * the file: V8 itself checks only the source's length) and this Node. V8 compiles a function when
 * it first runs, so the code is saved as the process exits, and saved again by a later run that
 * used modules the saved code did not cover (the file's first line lists those it covers, and the
 * code's sha256): after `--version`, a push compiles only what `--version` did not run. Any
 * failure to read or write the cache only costs the compile.
 */
function compile(
  source: string,
  filename: string,
  cacheDir: string | false,
): { value: unknown; save: (used: Iterable<Key>) => void } {
  const file =
    cacheDir && path.join(cacheDir, `cli-${sha256(source).slice(0, 32)}-${process.version}-${process.arch}.bin`);
  let cachedData: Buffer | undefined;
  let covered = new Set<Key>();
  if (file) {
    try {
      const kept = fs.readFileSync(file);
      const newline = kept.indexOf(10);
      const header = JSON.parse(kept.subarray(0, newline).toString('utf8')) as { modules: Key[]; sha256: string };
      const data = kept.subarray(newline + 1);
      // V8 does not check that the data is whole: a damaged file must not reach it.
      if (sha256(data) === header.sha256) {
        covered = new Set(header.modules);
        cachedData = data;
      }
    } catch {
      // none yet, or unreadable: compiled afresh and written again
    }
  }
  const script = new vm.Script(source, { filename, ...(cachedData ? { cachedData } : {}) });
  const rejected = !cachedData || script.cachedDataRejected === true;
  return {
    value: script.runInThisContext(),
    save: (used) => {
      const all = new Set(rejected ? [] : covered);
      for (const key of used) all.add(key);
      if (!file || (!rejected && all.size === covered.size)) return;
      const partial = `${file}.${process.pid}.tmp`;
      try {
        fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
        const data = script.createCachedData();
        const header = Buffer.from(`${JSON.stringify({ modules: [...all], sha256: sha256(data) })}\n`);
        fs.writeFileSync(partial, Buffer.concat([header, data]), { mode: 0o600 });
        fs.renameSync(partial, file);
      } catch {
        try {
          fs.rmSync(partial, { force: true });
        } catch {
          // the folder itself could not be made
        }
      }
    },
  };
}

const sha256 = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex');

/**
 * `$XDG_CACHE_HOME/dockpush/compiled`, else `~/.cache/dockpush/compiled` (beside the registry
 * engine's blob info cache); `false` when `NODE_DISABLE_COMPILE_CACHE` is set, as Node's own
 * compile cache reads it.
 */
export function compiledCodeDir(env: NodeJS.ProcessEnv): string | false {
  if (env.NODE_DISABLE_COMPILE_CACHE) return false;
  return path.join(env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'dockpush', 'compiled');
}
