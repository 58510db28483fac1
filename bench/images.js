/**
 * The images the bench pushes, built `FROM scratch` with the legacy builder (no network, no
 * base image): incompressible ones of random bytes, and a realistic one made of this machine's
 * own files, which compresses the way real images do.
 */
'use strict';
const { spawnSync } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');

const MiB = 2 ** 20;

/**
 * A `FROM scratch` image of `layers` layers of `bytesPerLayer` random bytes each.
 * `run(cmd, args, options)` runs a command to its end (throws on failure).
 */
function buildRandomImage({ run, tmp, env }, tag, layers, bytesPerLayer) {
  const ctx = fs.mkdtempSync(path.join(tmp, 'ctx-'));
  const lines = ['FROM scratch'];
  for (let i = 0; i < layers; i++) {
    const file = path.join(ctx, `layer-${i}.bin`);
    const fd = fs.openSync(file, 'w');
    for (let written = 0; written < bytesPerLayer; written += MiB) {
      fs.writeSync(fd, crypto.randomBytes(Math.min(MiB, bytesPerLayer - written)));
    }
    fs.closeSync(fd);
    lines.push(`COPY layer-${i}.bin /layer-${i}.bin`);
  }
  fs.writeFileSync(path.join(ctx, 'Dockerfile'), lines.join('\n') + '\n');
  run('docker', ['build', '--quiet', '--tag', tag, ctx], { env: { ...env, DOCKER_BUILDKIT: '0' } });
  fs.rmSync(ctx, { recursive: true, force: true });
}

/**
 * The regular files under `from` (sorted, so the selection is the same on every run) to be
 * copied to `to`, keeping their paths, up to `cap` bytes; `keep(name)` filters by file name.
 * Unreadable files and symlinks are left out.
 */
function selectCapped(from, to, cap, keep = () => true) {
  const files = [];
  let total = 0;
  const walk = (dir, rel) => {
    let entries;
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1));
    } catch {
      return;
    }
    for (const entry of entries) {
      if (total >= cap) return;
      const source = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        walk(source, path.join(rel, entry.name));
      } else if (entry.isFile() && keep(entry.name)) {
        try {
          fs.accessSync(source, fs.constants.R_OK);
          const { size, mtimeMs } = fs.statSync(source);
          if (total + size > cap) continue;
          files.push({ source, target: path.join(to, rel, entry.name), size, mtimeMs });
          total += size;
        } catch {
          // unreadable: not part of the image
        }
      }
    }
  };
  walk(from, '');
  return files;
}

function copyAll(files, into) {
  for (const file of files) {
    const target = path.join(into, file.target);
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.copyFileSync(file.source, target);
  }
}

/**
 * A realistic image of four layers, like a Node.js service's: the Node.js binary and shared
 * libraries (≈170 MB), a real node_modules tree (this repository's, ≈100 MB of JavaScript), text
 * and documentation (≈50 MB, man pages and changelogs largely gzipped already), and on top a small
 * application layer. The three lower layers are a base image, built once and kept between runs
 * as `dockpush-bench-realistic-base:<hash of the files chosen>` (building its tens of thousands of
 * files takes the legacy builder minutes on a busy machine); the application is built on it as
 * `tag`, and again after a change to the application only as `changedTag`, so the two share their
 * lower layers exactly. Returns the image's size in MB and the base's tag.
 */
function buildRealisticImage({ run, tmp, env, root }, { tag, changedTag }) {
  const build = (context, t, ...options) =>
    run('docker', ['build', '--quiet', ...options, '--tag', t, context], { env: { ...env, DOCKER_BUILDKIT: '0' } });
  const node = fs.realpathSync(process.execPath);
  const baseFiles = [
    { source: node, target: 'runtime/usr/bin/node', ...fs.statSync(node) },
    ...selectCapped('/usr/lib/x86_64-linux-gnu', 'runtime/usr/lib/x86_64-linux-gnu', 70 * MiB, (n) =>
      /\.so(\.\d+)*$/.test(n),
    ),
    ...selectCapped(path.join(root, 'node_modules'), 'modules/app/node_modules', 100 * MiB),
    ...selectCapped('/usr/share/doc', 'docs/usr/share/doc', 25 * MiB),
    ...selectCapped('/usr/share/man', 'docs/usr/share/man', 25 * MiB),
  ];
  const key = crypto
    .createHash('sha256')
    .update(JSON.stringify(baseFiles.map((f) => [f.target, f.size, f.mtimeMs])))
    .digest('hex')
    .slice(0, 16);
  const baseTag = `dockpush-bench-realistic-base:${key}`;
  if (spawnSync('docker', ['image', 'inspect', baseTag], { stdio: 'ignore' }).status !== 0) {
    const base = fs.mkdtempSync(path.join(tmp, 'ctx-'));
    copyAll(baseFiles, base);
    fs.writeFileSync(
      path.join(base, 'Dockerfile'),
      ['FROM scratch', 'COPY runtime/ /', 'COPY modules/ /', 'COPY docs/ /', 'CMD ["/usr/bin/node"]', ''].join('\n'),
    );
    // No build cache: an intermediate image it names may be gone (seen: "unknown parent image ID").
    build(base, baseTag, '--no-cache');
    fs.rmSync(base, { recursive: true, force: true });
  }

  const app = fs.mkdtempSync(path.join(tmp, 'ctx-'));
  const appFiles = fs
    .readdirSync(path.join(root, 'packages'))
    .flatMap((pkg) => selectCapped(path.join(root, 'packages', pkg, 'dist'), path.join('app', pkg), 5 * MiB));
  copyAll(appFiles, app);
  fs.writeFileSync(path.join(app, 'Dockerfile'), [`FROM ${baseTag}`, 'COPY app/ /app/', ''].join('\n'));
  fs.writeFileSync(path.join(app, 'app/build-id'), 'first build\n');
  build(app, tag);
  fs.writeFileSync(path.join(app, 'app/build-id'), 'second build: only the application changed\n');
  fs.writeFileSync(path.join(app, 'app/release.js'), `module.exports = ${JSON.stringify(new Date().toISOString())};\n`);
  build(app, changedTag);
  fs.rmSync(app, { recursive: true, force: true });
  const bytes = [...baseFiles, ...appFiles].reduce((sum, f) => sum + f.size, 0);
  return { mb: Math.round(bytes / MiB), baseTag };
}

module.exports = { buildRandomImage, buildRealisticImage, MiB };
