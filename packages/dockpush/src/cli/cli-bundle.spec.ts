import fs from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runCliBundle } from './cli-bundle';
import { writeCliBundle } from './cli-bundle-writer';
import { compiledCodeDir } from './compiled-code';

/**
 * A tree as `tsc` writes it, in two packages: `app` (the entry, a JSON file, and a module loaded
 * only when asked) and `@scope/lib`, which alone has the dependency `ext` (as pnpm lays packages
 * out: `app` cannot resolve `ext`). The entry exports what the modules saw.
 */
function writeTree(root: string): { app: string; lib: string } {
  const write = (file: string, text: string) => {
    fs.mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    fs.writeFileSync(path.join(root, file), text);
  };
  write('app/package.json', '{"name":"app"}');
  write(
    'app/dist/main.js',
    `#!/usr/bin/env node
"use strict";
const state = require("./state");
state.evaluated.push('main');
const { greet } = require("./greet");
state.greeting = greet();
state.config = require('./config.json');
state.mainFile = __filename;
module.exports = {
  state,
  loadLazy: () => require('./lazy').value,
  requireByPath: (file) => require('node:module').createRequire(__filename)(file),
  throwFromGreet: () => require('./greet').fail(),
};
//# sourceMappingURL=main.js.map
`,
  );
  write('app/dist/state.js', 'module.exports = { evaluated: [] };\n');
  write('app/dist/config.json', '{ "name": "from json" }');
  write('app/dist/lazy.js', 'require("./state").evaluated.push("lazy");\nexports.value = 42;\n');
  write(
    'app/dist/greet.js',
    `"use strict";
const state = require("./state");
state.evaluated.push('greet');
state.greetModule = exports;
exports.fail = () => {
  throw new Error('from greet');
};
exports.greet = () => {
  const lib = require("@scope/lib");
  state.evaluated.push('lib');
  state.libDir = lib.dir;
  state.extResolved = lib.extResolved;
  return lib.hello() + ' / ' + require("@scope/lib/dist/other").name;
};
`,
  );
  write('lib/package.json', '{"name":"@scope/lib","main":"dist/index.js"}');
  write(
    'lib/dist/index.js',
    `exports.dir = __dirname;
exports.extResolved = require.resolve('ext');
exports.hello = () => require('ext').word;
`,
  );
  write('lib/dist/other.js', 'exports.name = "other";\n');
  write('lib/node_modules/ext/package.json', '{"name":"ext","main":"index.js"}');
  write('lib/node_modules/ext/index.js', 'exports.word = "hello from ext";\n');
  // app reaches the library through a link in its node_modules, as a workspace or pnpm does.
  fs.mkdirSync(path.join(root, 'app/node_modules/@scope'), { recursive: true });
  fs.symlinkSync(path.join(root, 'lib'), path.join(root, 'app/node_modules/@scope/lib'), 'dir');
  return { app: path.join(root, 'app'), lib: path.join(root, 'lib') };
}

interface Seen {
  evaluated: string[];
  greeting: string;
  config: unknown;
  mainFile: string;
  libDir: string;
  extResolved: string;
  greetModule: unknown;
}
interface Entry {
  state: Seen;
  loadLazy: () => number;
  /** Node's own require of a file, as a module outside the bundle would call it. */
  requireByPath: (file: string) => unknown;
  throwFromGreet: () => void;
}

/** Runs a bundle, keeping no compiled code unless `cacheDir` is given (then saved as at exit). */
function run(bundle: string, cacheDir: string | false = false, then?: (entry: Entry) => void): Entry {
  let save: (() => void) | undefined;
  try {
    const entry = runCliBundle({ bundle, cacheDir, atExit: (s) => (save = s) }) as Entry;
    then?.(entry);
    return entry;
  } finally {
    save?.();
  }
}

function bundleIn(root: string) {
  const { app, lib } = writeTree(root);
  const out = path.join(app, 'dist/cli.bundle');
  const written = writeCliBundle({
    entry: path.join(app, 'dist/main.js'),
    packages: { app, '@scope/lib': lib },
    out,
  });
  return { app, lib, out, written };
}

let root: string;
beforeEach(() => {
  root = fs.realpathSync(fs.mkdtempSync(path.join(tmpdir(), 'dockpush-cli-bundle-')));
});
afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

describe('the CLI bundle', () => {
  it('holds every module the entry reaches in the bundled packages, and no other', () => {
    const { out, written } = bundleIn(root);
    expect(written.modules).toBe(7); // main, state, greet, config.json, lazy, lib's index and other
    const text = fs.readFileSync(out, 'utf8');
    expect(text).not.toContain('hello from ext'); // ext is not one of the packages: it stays outside
    expect(fs.readdirSync(path.dirname(out)).filter((name) => name.includes('cli.bundle'))).toEqual(['cli.bundle']);
  });

  it('names each module’s own file and line in a stack trace', () => {
    const { out } = bundleIn(root);
    const { throwFromGreet } = run(out);
    const stack = String(
      (() => {
        try {
          throwFromGreet();
        } catch (error) {
          return (error as Error).stack;
        }
      })(),
    );
    // greet.js's `throw` is on its line 6, at column 9 (jest shows the path relative to the project).
    expect(stack).toMatch(/app\/dist\/greet\.js:6:9\)/);
    expect(stack).toMatch(/app\/dist\/main\.js:\d+:\d+\)/);
    expect(stack).not.toContain('cli.bundle');
  });

  it('runs the tree instead when a module is newer than the bundle (tsc has run since)', () => {
    const { app, out } = bundleIn(root);
    const main = path.join(app, 'dist/main.js');
    fs.writeFileSync(
      main,
      fs
        .readFileSync(main, 'utf8')
        .replace("state.evaluated.push('main');", "state.evaluated.push('main from the tree');"),
    );
    const later = new Date(Date.now() + 5000);
    fs.utimesSync(main, later, later);
    expect(run(out).state.evaluated[0]).toBe('main from the tree');
  });

  it('reads a JSON module as JSON, __proto__ being a plain key', () => {
    const { app, lib } = writeTree(root);
    fs.writeFileSync(path.join(app, 'dist/config.json'), '{ "name": "from json", "__proto__": { "polluted": true } }');
    const out = path.join(app, 'dist/cli.bundle');
    writeCliBundle({ entry: path.join(app, 'dist/main.js'), packages: { app, '@scope/lib': lib }, out });
    const { config } = run(out).state as { config: Record<string, unknown> };
    expect(Object.getPrototypeOf(config)).toBe(Object.prototype);
    expect(Object.keys(config)).toEqual(['name', '__proto__']);
  });

  it('runs the tree instead when the bundle is damaged: cut short, or not a bundle', () => {
    const { app, out } = bundleIn(root);
    fs.writeFileSync(path.join(app, 'dist/main.js'), 'exports.state = { evaluated: ["main from the tree"] };\n');
    const whole = fs.readFileSync(out);
    // Back-date the tree, so that only the damage can make the bundle unusable.
    const past = new Date(Date.now() - 60_000);
    fs.utimesSync(path.join(app, 'dist/main.js'), past, past);
    for (const damaged of [whole.subarray(0, whole.length - 10), Buffer.from('not a bundle')]) {
      fs.writeFileSync(out, damaged);
      jest.resetModules();
      delete require.cache[path.join(app, 'dist/main.js')];
      expect(run(out).state.evaluated[0]).toBe('main from the tree');
    }
  });

  it('gives text in any script back as it was', () => {
    const { app, lib } = writeTree(root);
    const text = 'em dash — times × snowman ☃ and 𝄞';
    fs.writeFileSync(path.join(app, 'dist/config.json'), JSON.stringify({ name: text }));
    const out = path.join(app, 'dist/cli.bundle');
    writeCliBundle({ entry: path.join(app, 'dist/main.js'), packages: { app, '@scope/lib': lib }, out });
    expect(run(out).state.config).toEqual({ name: text });
  });

  it('runs as the tree does: in order, lazily, with each file’s own paths and dependencies', () => {
    const { app, lib, out } = bundleIn(root);
    const { state, loadLazy } = run(out);
    expect(state.evaluated).toEqual(['main', 'greet', 'lib']);
    expect(state.greeting).toBe('hello from ext / other');
    expect(state.config).toEqual({ name: 'from json' });
    expect(state.mainFile).toBe(path.join(app, 'dist/main.js'));
    expect(state.libDir).toBe(path.join(lib, 'dist'));
    // From lib's folder, not app's: app has no `ext`.
    expect(state.extResolved).toBe(path.join(lib, 'node_modules/ext/index.js'));

    expect(loadLazy()).toBe(42);
    expect(state.evaluated).toEqual(['main', 'greet', 'lib', 'lazy']);
    loadLazy();
    expect(state.evaluated).toEqual(['main', 'greet', 'lib', 'lazy']);
  });

  it('takes its paths from where the packages are installed, not where they were built', () => {
    const built = path.join(root, 'built');
    bundleIn(built);
    const installed = path.join(root, 'installed');
    const copy = { recursive: true, preserveTimestamps: true };
    fs.cpSync(path.join(built, 'lib'), path.join(installed, 'lib'), copy);
    fs.cpSync(path.join(built, 'app/dist'), path.join(installed, 'app/dist'), copy);
    fs.cpSync(path.join(built, 'app/package.json'), path.join(installed, 'app/package.json'), copy);
    fs.mkdirSync(path.join(installed, 'app/node_modules/@scope'), { recursive: true });
    fs.symlinkSync(path.join(installed, 'lib'), path.join(installed, 'app/node_modules/@scope/lib'), 'dir');
    fs.rmSync(built, { recursive: true });

    const { state } = run(path.join(installed, 'app/dist/cli.bundle'));
    expect(state.mainFile).toBe(path.join(installed, 'app/dist/main.js'));
    expect(state.extResolved).toBe(path.join(installed, 'lib/node_modules/ext/index.js'));
  });

  it('gives a plain require of a bundled file the bundled instance', () => {
    const { app, out } = bundleIn(root);
    const { state, requireByPath } = run(out);
    expect(requireByPath(path.join(app, 'dist/greet.js'))).toBe(state.greetModule);
    expect(state.evaluated).toEqual(['main', 'greet', 'lib']);
  });

  it('fails the build on a relative require that does not resolve', () => {
    const { app } = writeTree(root);
    fs.appendFileSync(path.join(app, 'dist/main.js'), 'require("./missing");\n');
    expect(() =>
      writeCliBundle({
        entry: path.join(app, 'dist/main.js'),
        packages: { app },
        out: path.join(app, 'dist/cli.bundle'),
      }),
    ).toThrow(/app\/dist\/main\.js requires \.\/missing, which does not resolve/);
  });
});

describe('the compiled code kept for the bundle', () => {
  const kept = (cacheDir: string) =>
    fs.readdirSync(cacheDir).map((name) => {
      const data = fs.readFileSync(path.join(cacheDir, name));
      const header = JSON.parse(data.subarray(0, data.indexOf(10)).toString()) as { modules: Record<string, unknown> };
      return { name, modules: Object.keys(header.modules), data };
    });

  it('is written at exit, kept while it covers the run, and grows with the modules a run uses', () => {
    const { out } = bundleIn(root);
    const cacheDir = path.join(root, 'cache');
    run(out, cacheDir);
    const [first, ...others] = kept(cacheDir);
    expect(others).toEqual([]);
    expect(first?.name).toMatch(new RegExp(`^cli-[0-9a-f]{32}-${process.version}-${process.arch}-[0-9a-f]{8}\\.bin$`));
    // JSON modules are parsed, not compiled.
    expect(first?.modules).toEqual([
      'app/dist/main.js',
      'app/dist/state.js',
      'app/dist/greet.js',
      '@scope/lib/dist/index.js',
      '@scope/lib/dist/other.js',
    ]);

    run(out, cacheDir);
    expect(kept(cacheDir)[0]?.data.equals(first?.data as Buffer)).toBe(true);

    run(out, cacheDir, (entry) => entry.loadLazy());
    expect(kept(cacheDir)[0]?.modules).toContain('app/dist/lazy.js');
  });

  it('is named for the exact source: another bundle of the same length has its own', () => {
    const { out } = bundleIn(root);
    const cacheDir = path.join(root, 'cache');
    run(out, cacheDir);
    const { app, lib } = { app: path.join(root, 'app'), lib: path.join(root, 'lib') };
    const greet = path.join(app, 'dist/greet.js');
    fs.writeFileSync(greet, fs.readFileSync(greet, 'utf8').replace('hello()', 'hellO()'));
    writeCliBundle({ entry: path.join(app, 'dist/main.js'), packages: { app, '@scope/lib': lib }, out });
    expect(() => run(out, cacheDir)).toThrow(/hellO is not a function/);
    expect(kept(cacheDir)).toHaveLength(2);
  });

  it('is kept apart for Node flags, which make V8 reject code made without them', () => {
    const { out } = bundleIn(root);
    const cacheDir = path.join(root, 'cache');
    run(out, cacheDir);
    const saved = process.env.NODE_OPTIONS;
    process.env.NODE_OPTIONS = '--max-old-space-size=300';
    try {
      run(out, cacheDir);
    } finally {
      if (saved === undefined) delete process.env.NODE_OPTIONS;
      else process.env.NODE_OPTIONS = saved;
    }
    expect(kept(cacheDir)).toHaveLength(2);
  });

  it('costs only the compile when it is damaged or cannot be written', () => {
    const { out } = bundleIn(root);
    const cacheDir = path.join(root, 'cache');
    run(out, cacheDir);
    const [{ name, data } = { name: '', data: Buffer.alloc(0) }] = kept(cacheDir);
    const damaged = Buffer.from(data);
    damaged.fill(7, damaged.indexOf(10) + 40);
    fs.writeFileSync(path.join(cacheDir, name), damaged);
    expect(run(out, cacheDir).state.greeting).toBe('hello from ext / other');
    expect(kept(cacheDir)[0]?.data.equals(damaged)).toBe(false);

    fs.writeFileSync(path.join(cacheDir, name), 'not a header');
    expect(run(out, cacheDir).state.greeting).toBe('hello from ext / other');
    expect(kept(cacheDir)[0]?.modules).toContain('app/dist/main.js');

    const blocked = path.join(root, 'file-not-folder');
    fs.writeFileSync(blocked, '');
    expect(run(out, path.join(blocked, 'cache')).state.greeting).toBe('hello from ext / other');
  });

  it('removes files no run has used for a month when it writes one, and marks a file it reads as used', () => {
    const { out } = bundleIn(root);
    const cacheDir = path.join(root, 'cache');
    fs.mkdirSync(cacheDir, { recursive: true });
    const days = (n: number) => new Date(Date.now() - n * 24 * 3600 * 1000);
    const stale = path.join(cacheDir, 'cli-0123-v0.0.0-x64-00000000.bin');
    const recent = path.join(cacheDir, 'cli-4567-v0.0.0-x64-00000000.bin');
    const other = path.join(cacheDir, 'notes.txt');
    for (const file of [stale, recent, other]) {
      fs.writeFileSync(file, 'x');
      fs.utimesSync(file, days(40), days(file === recent ? 10 : 40));
    }
    run(out, cacheDir);
    expect(fs.existsSync(stale)).toBe(false);
    expect(fs.existsSync(recent)).toBe(true);
    expect(fs.existsSync(other)).toBe(true);

    const own = fs.readdirSync(cacheDir).find((name) => /^cli-[0-9a-f]{32}-/.test(name));
    const file = path.join(cacheDir, own as string);
    fs.utimesSync(file, days(5), days(5));
    run(out, cacheDir);
    expect(Date.now() - fs.statSync(file).mtimeMs).toBeLessThan(60_000);
  });

  it('lives in the user’s cache folder, and not at all with NODE_DISABLE_COMPILE_CACHE', () => {
    expect(compiledCodeDir({ XDG_CACHE_HOME: '/c' })).toBe(path.join('/c', 'dockpush', 'compiled'));
    expect(compiledCodeDir({ XDG_CACHE_HOME: '/c', NODE_DISABLE_COMPILE_CACHE: '1' })).toBe(false);
  });
});
