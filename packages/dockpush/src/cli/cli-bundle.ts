import fs from 'node:fs';
import Module, { createRequire } from 'node:module';
import path from 'node:path';
import { CompiledCode, compiledCodeDir } from './compiled-code';

/**
 * The CLI as one file. Started from the tree `tsc` writes, a push loads about a hundred modules,
 * and Node finds, reads and compiles each one: a fifth of a small push. The build therefore
 * writes the sources of the CLI's modules, and of those of `@dockpush/core` they reach, into one
 * file (`cli-bundle-writer.ts`), and the `dockpush` command runs them from it (`runCliBundle`),
 * with V8's compiled code for them kept in the user's cache (`compiled-code.ts`).
 *
 * A module from the bundle behaves as from the tree: it is compiled and evaluated when first
 * required, once; it has its own file's name in stack traces, `__filename` and `__dirname`; and
 * it resolves other packages (`debug`, `dockerode`, the AWS SDK…) from there, so a layout that
 * lets only `@dockpush/core` see its own dependencies (pnpm's) works the same. Only a module that
 * something outside the bundle required by its path before the bundle did has two instances.
 */

/** The bundle's file name, beside this module in `dist/cli/`. */
export const CLI_BUNDLE = 'dockpush-cli.bundle';

/** A bundled module's key: its package's name, then its path in that package (`dockpush/dist/cli/run.js`). */
export type Key = string;

/**
 * The bundle file's first line (JSON). The modules' sources follow it, one after the other, as
 * UTF-8: each is read from there when first required, so a run decodes only what it uses.
 */
export interface BundleHeader {
  /** The bundle file's own key: where it lies in its package. */
  self: Key;
  /** The module run first. */
  entry: Key;
  /** sha256 of the sources: names the compiled code kept for them. */
  sha256: string;
  /** The sources' length in bytes: a file cut short is not run. */
  bytes: number;
  /** Each module: its requests that are bundled modules (request → key), and where its source is (offset and length in bytes, after the first line). */
  modules: Record<Key, { links: Record<string, Key>; at: [number, number] }>;
}

/** `@scope/name/dist/x.js` → [`@scope/name`, `dist/x.js`]; `name/dist/x.js` → [`name`, `dist/x.js`]. */
export function splitKey(key: Key): [string, string] {
  const slash = key.indexOf('/', key.startsWith('@') ? key.indexOf('/') + 1 : 0);
  return [key.slice(0, slash), key.slice(slash + 1)];
}

interface NodeModuleInternals {
  /** The `node_modules` folders a file looks in. */
  _nodeModulePaths(from: string): string[];
  _resolveFilename(request: string, parent: Module, isMain: boolean, options?: { paths?: string[] }): string;
  _resolveLookupPaths(request: string, parent: Module): string[] | null;
  _cache: NodeJS.Dict<Module>;
}
/** Internal to Node, but stable since its first versions and used by the tools that load modules. */
const internals = Module as unknown as NodeModuleInternals;

/**
 * Runs the bundle (by default the one beside this file) from its first module; returns that
 * module's exports. Where the bundle is older than the entry's file (a `tsc` build or watch since
 * the last full build), the entry runs from the tree instead, as `bin/dockpush.js` does where there
 * is no bundle. `cacheDir` keeps V8's compiled code (`false`: none); `atExit` is where it is saved
 * from (tests call it themselves).
 */
export function runCliBundle({
  bundle = path.join(__dirname, CLI_BUNDLE),
  cacheDir = compiledCodeDir(process.env),
  atExit = (save) => process.once('exit', save),
}: {
  bundle?: string;
  cacheDir?: string | false;
  atExit?: (save: () => void) => void;
} = {}): unknown {
  const bytes = fs.readFileSync(bundle);
  const sources = bytes.indexOf(10) + 1;
  const header = readHeader(bytes, sources);
  // A damaged bundle (cut short, overwritten): the tree it was made from runs instead.
  if (!header) return require(path.join(path.dirname(bundle), 'main.js'));
  const { self, entry, sha256, modules } = header;
  // Where each bundled package is installed: the bundle's own holds it, the others resolve from there.
  const [ownName, ownPath] = splitKey(self);
  const here = bundle.slice(0, bundle.length - ownPath.length - 1);
  const installed = new Map<string, string>([[ownName, here]]);
  const fileOf = (key: Key): string => {
    const [name, inPackage] = splitKey(key);
    let dir = installed.get(name);
    if (!dir) {
      dir = installedFrom(here, name);
      installed.set(name, dir);
    }
    return path.join(dir, ...inPackage.split('/'));
  };

  const entryFile = fileOf(entry);
  if (fs.statSync(entryFile).mtimeMs > fs.statSync(bundle).mtimeMs) return require(entryFile);

  const compiled = new CompiledCode(cacheDir, sha256);
  // Where a module's other packages are looked for: the same for every module of a folder.
  const pathsOf = new Map<string, string[]>();
  const nodeModulePaths = (dir: string): string[] => {
    let paths = pathsOf.get(dir);
    if (!paths) pathsOf.set(dir, (paths = internals._nodeModulePaths(dir)));
    return [...paths];
  };
  atExit(() => compiled.save());
  const main = require.main;
  const loaded = new Map<Key, Module>();

  function load(key: Key, parent: Module | undefined): unknown {
    const done = loaded.get(key);
    if (done) return done.exports;
    const { links, at } = modules[key] as BundleHeader['modules'][Key];
    const source = bytes.toString('utf8', sources + at[0], sources + at[0] + at[1]);
    const filename = fileOf(key);
    const module = new Module(filename, parent);
    module.filename = filename;
    module.paths = nodeModulePaths(path.dirname(filename));
    loaded.set(key, module);
    // Anything else that requires this file by its path gets this instance, as from the tree.
    internals._cache[filename] = module;
    try {
      if (key.endsWith('.json')) {
        module.exports = JSON.parse(source);
      } else {
        const require = requireFor(module, links, (link) => load(link, module));
        const wrapper = compiled.run(key, source, filename) as (...args: unknown[]) => void;
        wrapper.call(module.exports, module.exports, require, module, filename, path.dirname(filename));
      }
    } catch (error) {
      // As Node does: a module that threw is not kept, and a later require evaluates it again.
      loaded.delete(key);
      delete internals._cache[filename];
      throw error;
    }
    module.loaded = true;
    return module.exports;
  }

  function requireFor(module: Module, links: Record<string, Key>, bundled: (key: Key) => unknown): NodeJS.Require {
    const require = ((request: string) => {
      const link = links[request];
      return link === undefined ? module.require(request) : bundled(link);
    }) as NodeJS.Require;
    const resolve = ((request: string, options?: { paths?: string[] }) =>
      internals._resolveFilename(request, module, false, options)) as NodeJS.RequireResolve;
    resolve.paths = (request: string) => internals._resolveLookupPaths(request, module);
    require.resolve = resolve;
    require.cache = internals._cache;
    if (main) require.main = main;
    return require;
  }

  return load(entry, main);
}

/** The bundle's first line, if it is one and the sources after it are whole. */
function readHeader(bytes: Buffer, sources: number): BundleHeader | undefined {
  if (sources === 0) return undefined;
  try {
    const header = JSON.parse(bytes.toString('utf8', 0, sources)) as BundleHeader;
    return header.bytes === bytes.length - sources ? header : undefined;
  } catch {
    return undefined;
  }
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
