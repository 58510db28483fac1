#!/usr/bin/env node
// Run after any `npm install` that rewrites package-lock.json on these build machines:
// Adds nx's platform packages that this machine's npm registry does not serve to the lock,
// as a lock made against the public registry has them, so `npm ci` accepts the lock.
const fs = require('fs');
const lock = JSON.parse(fs.readFileSync('package-lock.json'));
const platforms = {
  '@nx/nx-darwin-arm64': { cpu: ['arm64'], os: ['darwin'] },
  '@nx/nx-darwin-x64': { cpu: ['x64'], os: ['darwin'] },
  '@nx/nx-freebsd-x64': { cpu: ['x64'], os: ['freebsd'] },
  '@nx/nx-linux-arm-gnueabihf': { cpu: ['arm'], os: ['linux'] },
  '@nx/nx-linux-x64-musl': { cpu: ['x64'], libc: ['musl'], os: ['linux'] },
  '@nx/nx-win32-arm64-msvc': { cpu: ['arm64'], os: ['win32'] },
  '@nx/nx-win32-x64-msvc': { cpu: ['x64'], os: ['win32'] },
};
const version = lock.packages['node_modules/nx'].version;
for (const [name, meta] of Object.entries(platforms)) {
  const key = `node_modules/${name}`;
  if (!lock.packages[key]) lock.packages[key] = { version, ...meta, license: 'MIT', optional: true };
}
lock.packages = Object.fromEntries(
  Object.entries(lock.packages).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a.localeCompare(b))),
);
fs.writeFileSync('package-lock.json', JSON.stringify(lock, null, 2) + '\n');
