import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { builtinModules, createRequire } from 'node:module';
import path from 'node:path';
import { type BundleHeader, CLI_BUNDLE, type Key } from './cli-bundle';

export interface BundleInput {
  /** The first module run (`…/dist/cli/main.js`). */
  entry: string;
  /** The packages whose modules go in, by name: their folders. Modules of other packages stay outside. */
  packages: Record<string, string>;
  /** The file to write, in one of `packages`. */
  out: string;
}

const REQUIRE_CALL = /\brequire\((["'])([^"'\n]+)\1\)/g;

/**
 * Writes the CLI bundle (`cli-bundle.ts`) at build time: every module reachable from `entry`
 * through `require("…")` calls with a literal argument (all `tsc` writes, dynamic `import()`
 * included) that resolves into one of `packages`, except their own `node_modules`. A relative
 * request that does not resolve fails the build; a package that is not installed stays outside,
 * as it would be required at run time. The file appears whole or not at all.
 */
export function writeCliBundle({ entry, packages, out }: BundleInput): { modules: number; bytes: number } {
  const roots = Object.entries(packages).map(([name, dir]) => [name, fs.realpathSync(dir) + path.sep] as const);
  const keyOf = (real: string): Key | undefined => {
    const root = roots.find(([, dir]) => real.startsWith(dir));
    const inPackage = root && real.slice(root[1].length).split(path.sep);
    // A package's own dependencies, installed in its folder, are not its modules.
    return root && inPackage && !inPackage.includes('node_modules') ? `${root[0]}/${inPackage.join('/')}` : undefined;
  };
  const entryFile = fs.realpathSync(entry);
  const entryKey = keyOf(entryFile);
  const self = keyOf(path.join(fs.realpathSync(path.dirname(out)), path.basename(out)));
  if (!entryKey || !self) {
    throw new Error(`cli bundle: ${entry} and ${out} must both be in one of ${Object.keys(packages).join(', ')}`);
  }

  const files = new Map<Key, string>([[entryKey, entryFile]]);
  const modules: BundleHeader['modules'] = {};
  const sources: Buffer[] = [];
  let at = 0;
  for (const [key, file] of files) {
    const source = fs.readFileSync(file, 'utf8');
    const links: Record<string, Key> = {};
    if (!file.endsWith('.json')) {
      const resolve = createRequire(file).resolve;
      for (const [, , request] of source.matchAll(REQUIRE_CALL)) {
        if (request === undefined || request.startsWith('node:') || builtinModules.includes(request)) continue;
        let resolved: string;
        try {
          resolved = fs.realpathSync(resolve(request));
        } catch (error) {
          if (!request.startsWith('.')) continue;
          throw new Error(`cli bundle: ${key} requires ${request}, which does not resolve: ${String(error)}`);
        }
        const target = keyOf(resolved);
        if (!target) continue;
        links[request] = target;
        if (!files.has(target)) files.set(target, resolved);
      }
    }
    // V8 reads `#!` only at the start of a script, and the module is wrapped in a function.
    const bytes = Buffer.from(source.replace(/^#!/, '//'), 'utf8');
    modules[key] = { links, at: [at, bytes.length] };
    sources.push(bytes);
    at += bytes.length;
  }
  const data = Buffer.concat(sources);
  const sha256 = createHash('sha256').update(data).digest('hex');
  const header: BundleHeader = { self, entry: entryKey, sha256, bytes: data.length, modules };
  const text = Buffer.concat([Buffer.from(`${JSON.stringify(header)}\n`), data]);
  const partial = `${out}.${process.pid}.tmp`;
  fs.writeFileSync(partial, text);
  fs.renameSync(partial, out);
  return { modules: files.size, bytes: text.length };
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
