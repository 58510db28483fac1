import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { EventEmitter } from 'node:events';
import type { ExecutorContext } from '@nx/devkit';
import type { PushArgsInput, PushOptions, PushPlan, PushResult } from '@dockpush/core';
import type { PushExecutorDependencies } from '../push/push.impl';
import { releasePublishExecutor } from './release-publish.impl';
import type { ReleasePublishExecutorSchema, ReleaseVersionDataEntry } from './schema';

const { renderReleasePublishSchema, releasePublishSchemaFile } = require('../../../scripts/generate-schema.js') as {
  renderReleasePublishSchema: () => string;
  releasePublishSchemaFile: string;
};

function workspace(files: Record<string, string> = {}): string {
  const root = mkdtempSync(join(tmpdir(), 'dockpush-nx-release-'));
  for (const [file, content] of Object.entries(files)) {
    mkdirSync(dirname(join(root, file)), { recursive: true });
    writeFileSync(join(root, file), content);
  }
  return root;
}

function context(root: string): ExecutorContext {
  return {
    root,
    cwd: root,
    projectName: 'web',
    targetName: 'nx-release-publish',
    isVerbose: false,
    projectsConfigurations: { version: 2, projects: { web: { root: 'apps/web' } } },
    nxJsonConfiguration: {},
    projectGraph: { nodes: {}, dependencies: {} },
  };
}

const digest = `sha256:${'b'.repeat(64)}`;

async function release(options: ReleasePublishExecutorSchema, root = workspace()) {
  const logs: string[] = [];
  const calls: { input: PushArgsInput; options: PushOptions }[] = [];
  const deps: Partial<PushExecutorDependencies> = {
    pushImage: async (input, opts) => {
      const args = input as PushArgsInput & { repo: string; tags: string[] };
      calls.push({ input: args, options: opts });
      const uri = Object.fromEntries(args.tags.map((t) => [t, `${args.repo}:${t}`]));
      if (args.dryRun) {
        const plan: PushPlan = {
          repo: args.repo,
          tags: args.tags,
          uri,
          registry: 'localhost:5000',
          source: args.source ?? null,
          credentials: 'anonymous',
        } as PushPlan;
        return plan;
      }
      const result: PushResult = {
        image: { id: 'sha256:1', repo: args.repo, tags: args.tags, uri },
        pushed: args.tags.map((tag) => ({ tag, uri: uri[tag] ?? '', digest, size: 100, imageId: 'sha256:1' })),
        engine: 'docker',
      };
      return result;
    },
    logger: {
      info: (text: string) => logs.push(text),
      warn: (text: string) => logs.push(text),
      error: (text: string) => logs.push(text),
    },
    progress: { write: () => true, isTTY: false },
    env: {},
    signals: new EventEmitter() as unknown as PushExecutorDependencies['signals'],
  };
  const outcome = await releasePublishExecutor(options, context(root), deps);
  return { outcome, calls, output: logs.join('\n') };
}

const versionData = (entry: Partial<ReleaseVersionDataEntry>): Record<string, ReleaseVersionDataEntry> => ({
  web: { currentVersion: '1.0.0', newVersion: null, ...entry },
});

describe('@dockpush/nx:release-publish', () => {
  it("pushes the version nx release resolved, then the extra tags, and reports each tag's digest", async () => {
    const { outcome, calls, output } = await release({
      repo: 'localhost:5000/web',
      source: 'web:latest',
      tags: ['latest'],
      nxReleaseVersionData: versionData({ newVersion: '1.1.0' }),
      firstRelease: false,
    });
    expect(outcome).toEqual({ success: true });
    expect(calls).toHaveLength(1);
    expect(calls[0]?.input).toMatchObject({
      repo: 'localhost:5000/web',
      source: 'web:latest',
      tags: ['1.1.0', 'latest'],
    });
    expect(calls[0]?.input).not.toHaveProperty('nxReleaseVersionData');
    expect(calls[0]?.input).not.toHaveProperty('firstRelease');
    expect(output).toContain('Release version 1.1.0 of web (from nx release).');
    expect(output).toContain(`localhost:5000/web:1.1.0   ${digest}`);
    expect(output).toContain(`localhost:5000/web:latest  ${digest}`);
  });

  it('pushes nothing under nx release --dry-run and says what it would push', async () => {
    const { outcome, calls, output } = await release({
      repo: 'localhost:5000/web',
      source: 'web:latest',
      dryRun: true,
      nxReleaseVersionData: versionData({ newVersion: '2.0.0' }),
    });
    expect(outcome).toEqual({ success: true });
    expect(calls[0]?.input).toMatchObject({ dryRun: true, tags: ['2.0.0'] });
    expect(output).toContain('nothing was pushed');
    expect(output).toContain('localhost:5000/web:2.0.0');
  });

  it('hands the resolved version to tag rules as their semver input, in a dry run too', async () => {
    for (const dryRun of [false, true]) {
      const { outcome, calls } = await release({
        repo: 'localhost:5000/web',
        source: 'web:latest',
        dryRun,
        tagRules: ['type=semver,pattern={{major}}.{{minor}}'],
        nxReleaseVersionData: versionData({ newVersion: '1.2.0+build.5' }),
      });
      expect(outcome).toEqual({ success: true });
      expect(calls[0]?.input).toMatchObject({ tags: ['1.2.0-build.5'] });
      expect(calls[0]?.options.tagValues).toEqual({ semver: '1.2.0+build.5', projectName: 'web' });
    }
  });

  it("pushes @nx/docker's image from its version file, to its repository unless repo is set", async () => {
    const root = workspace({ 'tmp/apps/web/.docker-version': 'localhost:5000/apps-web:2611.27.abc123\n' });
    const fromFile = await release({ tags: ['latest'] }, root);
    expect(fromFile.calls[0]?.input).toMatchObject({
      repo: 'localhost:5000/apps-web',
      source: 'localhost:5000/apps-web:2611.27.abc123',
      tags: ['2611.27.abc123', 'latest'],
    });
    expect(fromFile.output).toContain('(from tmp/apps/web/.docker-version)');

    const elsewhere = await release(
      {
        repo: 'ghcr.io/acme/web',
        nxReleaseVersionData: versionData({ newVersion: null, dockerVersion: '2611.27.abc123' }),
      },
      root,
    );
    expect(elsewhere.calls[0]?.input).toMatchObject({
      repo: 'ghcr.io/acme/web',
      source: 'localhost:5000/apps-web:2611.27.abc123',
      tags: ['2611.27.abc123'],
    });
  });

  it('reads the version nx release version wrote to package.json when nx release publish runs alone', async () => {
    const root = workspace({ 'apps/web/package.json': '{"name":"web","version":"3.0.0+build.7"}' });
    const { calls } = await release({ repo: 'localhost:5000/web' }, root);
    // `+` is not allowed in a Docker tag: docker/metadata-action writes it as `-`.
    expect(calls[0]?.input).toMatchObject({ tags: ['3.0.0-build.7'] });
  });

  it('pushes nothing when nx release found no new version for the project', async () => {
    const { outcome, calls, output } = await release({
      repo: 'localhost:5000/web',
      nxReleaseVersionData: versionData({ newVersion: null }),
    });
    expect(outcome).toEqual({ success: true });
    expect(calls).toEqual([]);
    expect(output).toContain('nx release resolved no new version for web: no image pushed.');
  });

  it('fails, naming where it looked, when there is no version at all', async () => {
    const { outcome, calls, output } = await release({ repo: 'localhost:5000/web' });
    expect(outcome).toEqual({ success: false });
    expect(calls).toEqual([]);
    expect(output).toContain('no release version for web');
    expect(output).toContain('tmp/apps/web/.docker-version');
    expect(output).toContain('Run nx release');
  });

  it("ignores npm's options that nx release publish passes to every project", async () => {
    const { outcome, calls } = await release({
      repo: 'localhost:5000/web',
      registry: 'http://localhost:4873',
      otp: '123456',
      access: 'public',
      nxReleaseVersionData: versionData({ newVersion: '1.0.0' }),
    });
    expect(outcome).toEqual({ success: true });
    expect(Object.keys(calls[0]?.input ?? {}).sort()).toEqual(['dryRun', 'outputFile', 'repo', 'tags']);
  });
});

describe('schema.json of @dockpush/nx:release-publish', () => {
  it('is up to date with the zod model (else: node packages/nx/scripts/generate-schema.js)', () => {
    const committed = readFileSync(releasePublishSchemaFile, 'utf8');
    expect(committed).toBe(renderReleasePublishSchema());
  });
});
