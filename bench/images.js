/**
 * The images the bench pushes, built `FROM scratch` with the legacy builder (no network, no
 * base image): incompressible ones of random bytes, and a realistic one made of this machine's
 * own files, which compresses the way real images do.
 */
'use strict';
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
 * Copies the regular files under `from` (sorted, so the selection is the same on every run)
 * into `to`, keeping their paths, until `cap` bytes; `keep(name)` filters by file name.
 * Unreadable files and symlinks are skipped. Returns the bytes copied.
 */
function copyCapped(from, to, cap, keep = () => true) {
  let copied = 0;
  const walk = (dir, rel) => {
    let entries;
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1));
    } catch {
      return;
    }
    for (const entry of entries) {
      if (copied >= cap) return;
      const source = path.join(dir, entry.name);
      const target = path.join(to, rel, entry.name);
      if (entry.isDirectory()) {
        walk(source, path.join(rel, entry.name));
      } else if (entry.isFile() && keep(entry.name)) {
        try {
          const size = fs.statSync(source).size;
          if (copied + size > cap) continue;
          fs.mkdirSync(path.dirname(target), { recursive: true });
          fs.copyFileSync(source, target);
          copied += size;
        } catch {
          // unreadable: not part of the image
        }
      }
    }
  };
  walk(from, '');
  return copied;
}

/**
 * A realistic image of four layers, like a Node.js service's: the Node.js binary and shared
 * libraries (≈170 MB), a real node_modules tree (this repository's, ≈100 MB of JavaScript), text
 * and documentation (≈50 MB, man pages and changelogs largely gzipped already), and on top a small
 * application layer. The three lower layers are a base image `baseTag`; the application is built
 * on it as `tag`, and again after a change to the application only as `changedTag`, so the two
 * share their lower layers exactly. Returns the image's size in MB.
 */
function buildRealisticImage({ run, tmp, env, root }, { baseTag, tag, changedTag }) {
  const build = (context, t) =>
    run('docker', ['build', '--quiet', '--tag', t, context], { env: { ...env, DOCKER_BUILDKIT: '0' } });
  const base = fs.mkdtempSync(path.join(tmp, 'ctx-'));
  let bytes = 0;
  const runtime = path.join(base, 'runtime');
  fs.mkdirSync(path.join(runtime, 'usr/bin'), { recursive: true });
  fs.copyFileSync(fs.realpathSync(process.execPath), path.join(runtime, 'usr/bin/node'));
  bytes += fs.statSync(path.join(runtime, 'usr/bin/node')).size;
  bytes += copyCapped('/usr/lib/x86_64-linux-gnu', path.join(runtime, 'usr/lib/x86_64-linux-gnu'), 70 * MiB, (n) =>
    /\.so(\.\d+)*$/.test(n),
  );
  bytes += copyCapped(path.join(root, 'node_modules'), path.join(base, 'modules/app/node_modules'), 100 * MiB);
  bytes += copyCapped('/usr/share/doc', path.join(base, 'docs/usr/share/doc'), 25 * MiB);
  bytes += copyCapped('/usr/share/man', path.join(base, 'docs/usr/share/man'), 25 * MiB);
  fs.writeFileSync(
    path.join(base, 'Dockerfile'),
    ['FROM scratch', 'COPY runtime/ /', 'COPY modules/ /', 'COPY docs/ /', 'CMD ["/usr/bin/node"]', ''].join('\n'),
  );
  build(base, baseTag);
  fs.rmSync(base, { recursive: true, force: true });

  const app = fs.mkdtempSync(path.join(tmp, 'ctx-'));
  for (const pkg of fs.readdirSync(path.join(root, 'packages'))) {
    bytes += copyCapped(path.join(root, 'packages', pkg, 'dist'), path.join(app, 'app', pkg), 5 * MiB);
  }
  fs.writeFileSync(path.join(app, 'Dockerfile'), [`FROM ${baseTag}`, 'COPY app/ /app/', ''].join('\n'));
  fs.writeFileSync(path.join(app, 'app/build-id'), 'first build\n');
  build(app, tag);
  fs.writeFileSync(path.join(app, 'app/build-id'), 'second build: only the application changed\n');
  fs.writeFileSync(path.join(app, 'app/release.js'), `module.exports = ${JSON.stringify(new Date().toISOString())};\n`);
  build(app, changedTag);
  fs.rmSync(app, { recursive: true, force: true });
  return Math.round(bytes / MiB);
}

module.exports = { buildRandomImage, buildRealisticImage, MiB };
