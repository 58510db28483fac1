import { writeFileSync, readFileSync } from 'node:fs';
import path from 'node:path';
import Dockerode from 'dockerode';
import type { PushPlan, PushResult, TagOutcome } from '@dockpush/core';
import { runCommand, STACK_LINE, userEnv } from '../adapters/run-command';
import { describeEachEngine, engineFlags, type E2eEngine } from '../support/engines';
import { FaultProxy } from '../support/fault-proxy';
import { loadE2eEnv } from '../support/env';
import { createTestImage, removeImage } from '../support/images';
import { createScratchProject } from '../support/packages';
import { listTags, manifestDigest } from '../support/registry-api';

/**
 * The `dockpush` binary as npm installs it from the packed package, run with flags and
 * config files against a real engine and registry:2.
 */
const env = loadE2eEnv();
const docker = new Dockerode();
const unique = `${process.pid}-${Date.now().toString(36)}`;
const sourceRef = `dockpush-e2e-cli:${unique}`;
const bigRef = `dockpush-e2e-cli-big:${unique}`;
const repoName = (name: string) => `cli-${name}-${unique}`;
const repo = (name: string) => `${env.plain.host}/${repoName(name)}`;
const localRefs: string[] = [];

let project: string;
let bin: string;
const dockpush = (args: string[], options: Parameters<typeof runCommand>[2] = { cwd: '' }) =>
  runCommand(bin, args, { env: userEnv({ E2E_TAG: 'from-env' }), ...options, cwd: project });

/** Each `uri@digest` line dockpush printed is what the registry serves. */
async function expectPushedLines(stdout: string, name: string, tags: string[]) {
  const lines = stdout.trim().split('\n');
  expect(lines.map((l) => l.slice(0, l.indexOf('@')))).toEqual(tags.map((t) => `${repo(name)}:${t}`));
  expect((await listTags(env.plain.host, repoName(name))).sort()).toEqual([...tags].sort());
  for (const [i, tag] of tags.entries()) {
    expect(await manifestDigest(env.plain.host, repoName(name), tag)).toBe(lines[i]?.slice(lines[i].indexOf('@') + 1));
  }
}

beforeAll(async () => {
  await createTestImage(docker, sourceRef, { layers: 2, bytesPerLayer: 64 * 1024 });
  await createTestImage(docker, bigRef, { layers: 3, bytesPerLayer: 8 * 1024 * 1024 });
  project = createScratchProject('cli', { packages: ['dockpush'] });
  bin = path.join(project, 'node_modules', '.bin', 'dockpush');
});

afterAll(async () => {
  for (const ref of [sourceRef, bigRef, ...localRefs]) await removeImage(docker, ref);
});

describeEachEngine('dockpush push', (engine: E2eEngine) => {
  /** A repository name of this engine's own. */
  const n = (name: string) => `${engine}-${name}`;
  /** dockpush push with this engine's flag. */
  const push = (args: string[], options?: Parameters<typeof runCommand>[2]) =>
    dockpush(['push', ...engineFlags(engine), ...args], options);

  it('pushes the tags given as flags and prints uri@digest for each', async () => {
    localRefs.push(`${repo(n('flags'))}:1.0.0`, `${repo(n('flags'))}:latest`);
    const run = await push(['--repo', repo(n('flags')), '--source', sourceRef, '-t', '1.0.0', '--tag', 'latest']);
    expect(run.status).toBe(0);
    await expectPushedLines(run.stdout, n('flags'), ['1.0.0', 'latest']);
    // Progress, one line per change, on stderr (not a terminal here).
    expect(run.stderr).toContain(`pushing ${repo(n('flags'))}:1.0.0`);
    expect(run.stderr).toMatch(/ uploaded$/m);
  });

  it('pushes from a local image without loading dockerode (the engine API is spoken directly)', async () => {
    localRefs.push(`${repo(n('no-dockerode'))}:1`);
    const hook = path.join(project, `dockerode-loaded-${engine}.js`);
    writeFileSync(
      hook,
      `process.on('exit', () => {
        const loaded = Object.keys(require.cache).some((m) => m.includes('/node_modules/dockerode/'));
        process.stderr.write('DOCKERODE LOADED ' + loaded + '\\n');
      });`,
    );
    const run = await push(['--repo', repo(n('no-dockerode')), '--source', sourceRef, '--tag', '1'], {
      cwd: project,
      env: userEnv({ NODE_OPTIONS: `--require ${hook}` }),
    });
    expect(run.status).toBe(0);
    await expectPushedLines(run.stdout, n('no-dockerode'), ['1']);
    expect(run.stderr).toContain('DOCKERODE LOADED false');
  });

  it('reads a camelCase JSON config, with --tag overriding its tags, and prints only JSON with --json', async () => {
    localRefs.push(`${repo(n('json'))}:from-flag`);
    writeFileSync(
      path.join(project, 'push.json'),
      JSON.stringify({ repo: repo(n('json')), source: sourceRef, tags: ['from-file'], retries: 1 }),
    );
    const run = await push(['--config', 'push.json', '--tag', 'from-flag', '--json']);
    expect(run.status).toBe(0);
    const result = JSON.parse(run.stdout) as PushResult;
    expect(result.image.repo).toBe(repo(n('json')));
    expect(result.engine).toBe(engine);
    expect(result.pushed.map((p) => p.tag)).toEqual(['from-flag']);
    expect(await listTags(env.plain.host, repoName(n('json')))).toEqual(['from-flag']);
    expect(await manifestDigest(env.plain.host, repoName(n('json')), 'from-flag')).toBe(result.pushed[0]?.digest);
  });

  it("runs a Runway hook entry's args block from YAML verbatim, ${env} lookups included", async () => {
    // Runway's hook pushes tags that exist locally: tag them as its build hook would have.
    for (const tag of ['runway', 'from-env']) {
      await docker.getImage(sourceRef).tag({ repo: repo(n('runway')), tag });
      localRefs.push(`${repo(n('runway'))}:${tag}`);
    }
    writeFileSync(
      path.join(project, 'runway-hook.yml'),
      [
        'path: runway.cfngin.hooks.docker.image.push',
        'required: true',
        'args:',
        `  repo: ${repo(n('runway'))}`,
        '  tags:',
        '    - runway',
        '    - ${env E2E_TAG}',
      ].join('\n'),
    );
    const run = await push(['--config', 'runway-hook.yml', '--output-file', 'out/runway.json']);
    expect(run.stderr).not.toContain('error');
    expect(run.status).toBe(0);
    await expectPushedLines(run.stdout, n('runway'), ['runway', 'from-env']);
    const result = JSON.parse(readFileSync(path.join(project, 'out/runway.json'), 'utf8')) as PushResult;
    expect(result.pushed.map((p) => `${p.uri}@${p.digest}`).join('\n')).toBe(run.stdout.trim());
  });

  it('logs in with --username and the password piped to --password-stdin, never echoing it', async () => {
    const authRepo = `${env.auth.host}/${repoName(n('auth'))}`;
    localRefs.push(`${authRepo}:1`);
    const run = await push(
      ['--repo', authRepo, '--source', sourceRef, '-t', '1', '-u', env.auth.username, '--password-stdin'],
      {
        cwd: project,
        input: `${env.auth.password}\n`,
      },
    );
    expect(run.stderr).not.toContain(env.auth.password);
    expect([run.status, run.stderr]).toEqual([0, expect.stringContaining('pushed ')]);
    expect(await listTags(env.auth.host, repoName(n('auth')), env.auth)).toEqual(['1']);
    expect(`${authRepo}:1@${await manifestDigest(env.auth.host, repoName(n('auth')), '1', env.auth)}`).toBe(
      run.stdout.trim(),
    );
  });

  it('prints the plan with --dry-run --json and pushes nothing', async () => {
    const run = await push(['--repo', repo(n('dry')), '--source', sourceRef, '--tag', '1', '--dry-run', '--json']);
    expect(run.status).toBe(0);
    expect(JSON.parse(run.stdout) as PushPlan).toEqual({
      repo: repo(n('dry')),
      tags: ['1'],
      uri: { '1': `${repo(n('dry'))}:1` },
      registry: env.plain.host,
      source: sourceRef,
      credentials: 'anonymous',
      engine,
    });
    expect(await listTags(env.plain.host, repoName(n('dry')))).toEqual([]);
  });

  it('prints uri@digest for each tag that landed when another was refused, and exits 1', async () => {
    const proxy = await FaultProxy.start(env.plain.host);
    try {
      const name = n('partial');
      const target = `${proxy.host}/${repoName(name)}`;
      localRefs.push(`${target}:a`, `${target}:b`);
      proxy.setFaults([
        {
          method: 'PUT',
          path: /\/manifests\/a$/,
          action: { kind: 'status', status: 400, code: 'MANIFEST_INVALID', message: 'refused for the test' },
        },
      ]);
      const run = await push(['--repo', target, '--source', sourceRef, '-t', 'a', '-t', 'b', '--retries', '0']);
      expect(run.status).toBe(1);
      expect(run.stderr).toMatch(/:a failed/);
      const lines = run.stdout.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toBe(`${target}:b@${await manifestDigest(env.plain.host, repoName(name), 'b')}`);
      expect(await listTags(env.plain.host, repoName(name))).toEqual(['b']);
    } finally {
      await proxy.close();
    }
  });

  it('exits 1 when the image is missing, saying what to do', async () => {
    const run = await push(['--image', 'dockpush-e2e-no-such-image:1']);
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/^dockpush: error: No local image "dockpush-e2e-no-such-image:1"/);
    expect(run.stderr).not.toMatch(STACK_LINE);
  });

  it('stops on SIGINT with exit 130, leaving only the tags it reports completed', async () => {
    let interrupted = false;
    const run = await push(['--repo', repo(n('sigint')), '--source', bigRef, '-t', 'a', '-t', 'b', '--json'], {
      cwd: project,
      env: userEnv(),
      onStderr: (chunk, child) => {
        if (!interrupted && / uploading\b/.test(chunk)) {
          interrupted = true;
          child.kill('SIGINT');
        }
      },
    });
    localRefs.push(`${repo(n('sigint'))}:a`, `${repo(n('sigint'))}:b`);
    expect(interrupted).toBe(true);
    expect(run.status).toBe(130);
    expect(run.stderr).toContain('Push cancelled');
    const { error } = JSON.parse(run.stdout) as { error: { code: string; outcomes: TagOutcome[] } };
    expect(error.code).toBe('CANCELLED');
    const completed = error.outcomes.filter((o) => o.status === 'pushed').map((o) => o.tag);
    expect(error.outcomes.map((o) => o.tag)).toEqual(['a', 'b']);
    expect(await listTags(env.plain.host, repoName(n('sigint')))).toEqual(completed);
    for (const o of error.outcomes) {
      if (o.status === 'pushed')
        expect(await manifestDigest(env.plain.host, repoName(n('sigint')), o.tag)).toBe(o.digest);
    }
  });
});

describe('dockpush push: bad arguments', () => {
  it.each<[string, string[], string | undefined, RegExp]>([
    [
      'an invalid repository',
      ['--repo', `${env.plain.host}/Bad`],
      undefined,
      /--repo: ".*\/Bad" is not a valid repository/,
    ],
    ['a mistyped flag', ['--repo', repo('x'), '--tgs', '1'], undefined, /--tgs: unknown option; did you mean --tag\?/],
    ['an invalid tag', ['--repo', repo('x'), '--tag', 'no good'], undefined, /--tag: "no good" is not a valid tag/],
    [
      'a mistyped field in the config file',
      ['--config', 'typo.yml'],
      `repo: ${repo('x')}\nretires: 2\n`,
      /typo\.yml: retires: unknown option; did you mean "retries"\?/,
    ],
    ['a missing config file', ['--config', 'nope.yml'], undefined, /--config: cannot read "nope\.yml": no such file/],
  ])('exits 2 on %s, naming the flag or field', async (_, args, configText, message) => {
    if (configText) writeFileSync(path.join(project, 'typo.yml'), configText);
    const run = await dockpush(['push', ...args]);
    expect(run.status).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(message);
    expect(run.stderr).not.toMatch(STACK_LINE);
  });
});

describe('dockpush start-up', () => {
  it('loads neither the AWS SDK for a push to another registry, nor yaml without --config', async () => {
    const hook = path.join(project, 'count-modules.js');
    writeFileSync(
      hook,
      `process.on('exit', () => {
        const loaded = Object.keys(require.cache);
        process.stderr.write('LOADED ' + JSON.stringify({
          awsSdk: loaded.some((m) => m.includes('@aws-sdk')),
          yaml: loaded.some((m) => m.includes('/node_modules/yaml/')),
        }) + '\\n');
      });`,
    );
    const run = await dockpush(['push', '--repo', repo('startup'), '--dry-run'], {
      cwd: project,
      env: userEnv({ NODE_OPTIONS: `--require ${hook}` }),
    });
    expect(run.status).toBe(0);
    expect(run.stderr).toContain('LOADED {"awsSdk":false,"yaml":false}');
  });
});

describe('dockpush --help and --version', () => {
  it('prints a manual page and the packed version', async () => {
    const help = await dockpush(['--help']);
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/^NAME\n {4}dockpush - push local Docker images/);
    const version = await dockpush(['--version']);
    const pkg = JSON.parse(readFileSync(path.join(project, 'node_modules/dockpush/package.json'), 'utf8')) as {
      version: string;
    };
    expect(version.stdout).toBe(`dockpush ${pkg.version}\n`);
  });
});
