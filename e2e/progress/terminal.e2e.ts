/* eslint-disable no-control-regex -- the tests read terminal escape sequences */
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Dockerode from 'dockerode';
import { loadE2eEnv, repoRoot } from '../support/env';
import { createTestImage, removeImage } from '../support/images';
import { listTags } from '../support/registry-api';

/**
 * What a person sees: the real CLI under a pseudo-terminal (util-linux `script`),
 * its output replayed through a small terminal model, and the same push in CI mode.
 */
const env = loadE2eEnv();
const docker = new Dockerode();
const unique = `${process.pid}-${Date.now().toString(36)}`;
const cli = join(repoRoot, 'packages/dockpush/dist/cli/main.js');
const home = mkdtempSync(join(tmpdir(), 'dockpush-tty-'));
const source = `dockpush-e2e-tty:${unique}`;

beforeAll(async () => {
  await createTestImage(docker, source, { layers: 3, bytesPerLayer: 4 * 1024 * 1024 });
});
afterAll(async () => removeImage(docker, source));

function baseEnv(): NodeJS.ProcessEnv {
  const e: NodeJS.ProcessEnv = { ...process.env, HOME: home, DOCKER_CONFIG: home };
  for (const key of ['CI', 'GITHUB_ACTIONS', 'DEBUG', 'NO_COLOR']) delete e[key];
  return e;
}

/**
 * Replays terminal output the way a terminal shows it: `\r`, `\n`, cursor up
 * (`ESC[nA`), erase to the end of the screen (`ESC[J`) and of the line (`ESC[K`, `ESC[2K`).
 */
function screen(output: string): string[] {
  const lines: string[] = [''];
  let row = 0;
  let col = 0;
  for (let i = 0; i < output.length; i++) {
    const ch = output[i] as string;
    if (ch === '\x1b' && output[i + 1] === '[') {
      const m = /^\x1b\[(\d*)([A-Za-z])/.exec(output.slice(i));
      if (m) {
        const n = Number(m[1] || '1');
        if (m[2] === 'A') row = Math.max(0, row - n);
        if (m[2] === 'J') {
          lines.splice(row + 1);
          lines[row] = (lines[row] ?? '').slice(0, col);
        }
        if (m[2] === 'K') lines[row] = m[1] === '2' ? '' : (lines[row] ?? '').slice(0, col);
        if (m[2] === 'G') col = n - 1;
        i += m[0].length - 1;
        continue;
      }
    }
    if (ch === '\r') col = 0;
    else if (ch === '\n') {
      row++;
      col = 0;
      while (lines.length <= row) lines.push('');
    } else {
      const line = lines[row] ?? '';
      lines[row] = line.slice(0, col).padEnd(col) + ch + line.slice(col + 1);
      col++;
    }
  }
  return lines.map((l) => l.trimEnd()).filter((l, i, all) => l !== '' || i < all.length - 1);
}

it('on a terminal: live layer lines that end as one summary line per tag', () => {
  const repo = `${env.plain.host}/tty-${unique}`;
  const command = [
    process.execPath,
    cli,
    'push',
    '--repo',
    repo,
    '--source',
    source,
    '--tag',
    '1.0.0',
    '--tag',
    'latest',
  ]
    .map((a) => `'${a}'`)
    .join(' ');
  const run = spawnSync('script', ['-qfec', command, '/dev/null'], {
    env: { ...baseEnv(), TERM: 'xterm-256color', COLUMNS: '120', LINES: '40' },
    encoding: 'utf8',
    timeout: 120_000,
  });
  expect(run.status).toBe(0);
  const raw = run.stdout;
  // Redrawn in place: the cursor went up, and layer lines were shown while pushing.
  expect(raw).toMatch(/\x1b\[\d+A/);
  expect(raw).toMatch(/1\.0\.0 [0-9a-f]{12} (preparing|waiting|uploaded|already in the registry|\[)/);

  const seen = screen(raw);
  const digestLine = new RegExp(
    `^✔ pushed ${repo.replace(/[.]/g, '\\.')}:(1\\.0\\.0|latest) sha256:[0-9a-f]{64} \\(\\d+ B manifest\\) in [\\d.]+ (ms|s)$`,
  );
  // What stays on the screen: the tagging, one line per tag with its digest, and the CLI's own summary;
  // no layer line is left behind.
  expect(seen.filter((l) => digestLine.test(l))).toHaveLength(2);
  expect(seen.filter((l) => /^\s+\S+ [0-9a-f]{12} /.test(l))).toEqual([]);
  expect(seen.some((l) => l.includes(`${repo}:1.0.0@sha256:`))).toBe(true);
  expect(seen.length).toBeLessThanOrEqual(10);
});

it('in CI: one line per state change, no escape sequences, bounded', async () => {
  const repo = `${env.plain.host}/ci-${unique}`;
  const run = spawnSync(
    process.execPath,
    [cli, 'push', '--repo', repo, '--source', source, '--tag', '1', '--tag', '2'],
    {
      env: { ...baseEnv(), CI: 'true' },
      encoding: 'utf8',
      timeout: 120_000,
    },
  );
  expect(run.status).toBe(0);
  expect(run.stderr).not.toMatch(/\x1b\[/);
  const lines = run.stderr.split('\n').filter(Boolean);
  // 3 layers: at most an "uploading" and an "uploaded" line each for the first tag, a
  // line each for the second tag's layers, plus a few per tag.
  expect(lines.length).toBeLessThanOrEqual(3 * 2 + 3 + 2 * 3 + 4);
  expect(lines.filter((l) => /pushed .*:(1|2) sha256:/.test(l))).toHaveLength(2);
  expect((await listTags(env.plain.host, `ci-${unique}`)).sort()).toEqual(['1', '2']);
});

it('in GitHub Actions: the push sits in a log group', () => {
  const repo = `${env.plain.host}/gha-${unique}`;
  const run = spawnSync(process.execPath, [cli, 'push', '--repo', repo, '--source', source], {
    env: { ...baseEnv(), CI: 'true', GITHUB_ACTIONS: 'true' },
    encoding: 'utf8',
    timeout: 120_000,
  });
  expect(run.status).toBe(0);
  expect(run.stderr).toMatch(new RegExp(`^::group::docker push ${repo.replace(/[.]/g, '\\.')}\\n`, 'm'));
  expect(run.stderr).toMatch(/::endgroup::\n/);
});
