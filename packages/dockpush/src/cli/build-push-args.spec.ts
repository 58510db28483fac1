import { parsePushArgs } from '@dockpush/core';
import { buildPushArgs } from './build-push-args';
import type { PushFlags } from './cli-options';
import { type PushConfig, resolveLookups } from './config-file';
import { UsageError } from './usage-error';
import { defaultPushFlags } from '../testing/push-flags';

const none: PushFlags = defaultPushFlags;
const flags = (f: Partial<PushFlags>): PushFlags => ({ ...none, ...f });
/** A config file as `loadPushConfig` gives it, read with no environment variables set. */
const config = (args: Record<string, unknown>, location = ''): PushConfig => {
  const { value, unresolved } = resolveLookups(args, {});
  return { file: 'push.yml', location, args: value as Record<string, unknown>, unresolved };
};

const runwayEcr = config(
  {
    ecr_repo: { repo_name: 'app', account_id: '123456789012', aws_region: 'us-east-1' },
    tags: ['latest'],
    dry_run: false,
  },
  'args',
);

describe('buildPushArgs', () => {
  it.each<[string, Partial<PushFlags>, PushConfig | undefined, Record<string, unknown>]>([
    ['flags alone', { repo: 'r/app', tags: ['1', '2'] }, undefined, { repo: 'r/app', tags: ['1', '2'] }],
    ['the file alone', {}, config({ repo: 'r/app', tags: ['1'] }), { repo: 'r/app', tags: ['1'] }],
    [
      "--tag replacing the file's tags",
      { tags: ['2'] },
      config({ repo: 'r/app', tags: ['1', 'x'] }),
      { repo: 'r/app', tags: ['2'] },
    ],
    [
      "a target flag replacing the file's target, of another kind",
      { repo: 'r/other' },
      runwayEcr,
      { repo: 'r/other', tags: ['latest'], dry_run: false },
    ],
    [
      '--ecr-region amending a Runway ecr_repo',
      { ecrRegion: 'eu-west-1' },
      runwayEcr,
      {
        ecr_repo: { repo_name: 'app', account_id: '123456789012', awsRegion: 'eu-west-1' },
        tags: ['latest'],
        dry_run: false,
      },
    ],
    [
      '--dry-run and --output-file replacing their Runway spellings',
      { dryRun: true, outputFile: 'out.json' },
      config({ repo: 'r/app', dry_run: false, output_file: 'x.json' }),
      { repo: 'r/app', dryRun: true, outputFile: 'out.json' },
    ],
    [
      'every ECR flag',
      { ecrRepoName: 'team/app', ecrAccountId: '123456789012', ecrRegion: 'eu-west-1', ecrRegistryAlias: 'alias' },
      undefined,
      { ecrRepo: { repoName: 'team/app', accountId: '123456789012', awsRegion: 'eu-west-1', registryAlias: 'alias' } },
    ],
    [
      '--keep-local-tags replacing its Runway-style spelling',
      { keepLocalTags: true },
      config({ repo: 'r/app', keep_local_tags: false }),
      { repo: 'r/app', keepLocalTags: true },
    ],
    [
      'the numbers and switches',
      { image: 'app:1', retries: 0, concurrency: 2, timeout: 5, createRepository: true, source: 's:1' },
      undefined,
      { image: 'app:1', retries: 0, concurrency: 2, timeout: 5, createRepository: true, source: 's:1' },
    ],
  ])('merges %s', (_, given, file, expected) => {
    expect(buildPushArgs(flags(given), file).input).toEqual(expected);
  });

  it('gives core a model it accepts, whichever spelling the file used', () => {
    const args = parsePushArgs(buildPushArgs(flags({ tags: ['1.0.0'], ecrRegion: 'eu-west-1' }), runwayEcr).input);
    expect(args.target).toEqual({
      kind: 'ecr',
      ecrRepo: { repoName: 'app', accountId: '123456789012', awsRegion: 'eu-west-1' },
    });
    expect(args.tags).toEqual(['1.0.0']);
  });

  it('takes credentials from --username and the password read from stdin', () => {
    expect(
      buildPushArgs(flags({ repo: 'r/app', username: 'bot', passwordStdin: true }), undefined, 's3cret').input,
    ).toEqual({
      repo: 'r/app',
      auth: { username: 'bot', password: 's3cret' },
    });
  });

  it.each<[string, Partial<PushFlags>, PushConfig | undefined, string]>([
    [
      'no target anywhere',
      { tags: ['1'] },
      undefined,
      'say where to push: give --repo URI, --image REF or --ecr-repo-name NAME',
    ],
    [
      'two target flags',
      { repo: 'r/a', image: 'a:1' },
      undefined,
      'give one of --repo, --image or --ecr-repo-name, not --repo and --image',
    ],
    [
      'an ECR flag with --repo',
      { repo: 'r/a', ecrRegion: 'us-east-1' },
      undefined,
      '--ecr-region: goes with --ecr-repo-name, not with --repo',
    ],
    [
      'an ECR flag with no ECR repository',
      { ecrAccountId: '123456789012' },
      config({ repo: 'r/a' }),
      '--ecr-account-id: needs --ecr-repo-name (push.yml has no ecr_repo to amend)',
    ],
    [
      '--username without --password-stdin',
      { repo: 'r/a', username: 'bot' },
      undefined,
      '--username: needs --password-stdin',
    ],
    [
      '--password-stdin without --username',
      { repo: 'r/a', passwordStdin: true },
      undefined,
      '--password-stdin: needs --username USER',
    ],
    [
      'a Runway lookup left in the file',
      {},
      config({ ecr_repo: { repo_name: '${cfn ecr.Repo}' } }, 'post_deploy[0].args'),
      'push.yml: post_deploy[0].args.ecr_repo.repo_name: holds the Runway lookup ${cfn ecr.Repo}',
    ],
  ])('refuses %s', (_, given, file, expected) => {
    expect(() => buildPushArgs(flags(given), file)).toThrow(UsageError);
    expect(() => buildPushArgs(flags(given), file)).toThrow(expected);
  });

  it.each([
    ['a password from stdin', flags({ repo: 'r/a', username: 'u', passwordStdin: true }), undefined],
    ['a flag', flags({ repo: 'r/a', tags: ['${env X}'], username: 'u', passwordStdin: true }), undefined],
  ])('reads no lookup in %s: it is a value', (_, given, file) => {
    const password = 'pa${ss}w:o@rd%';
    expect(buildPushArgs(given, file, password).input).toMatchObject({
      auth: { username: 'u', password },
    });
  });

  it('accepts a lookup the flags override', () => {
    expect(buildPushArgs(flags({ ecrRepoName: 'app' }), config({ ecr_repo: { repo_name: '${cfn x}' } })).input).toEqual(
      {
        ecrRepo: { repoName: 'app' },
      },
    );
  });

  describe('describeField', () => {
    const invocation = buildPushArgs(flags({ tags: ['bad tag'], ecrRegion: 'eu-west-1' }), runwayEcr);
    it.each([
      ['tags.0', '--tag'],
      ['ecrRepo.awsRegion', '--ecr-region'],
      ['ecrRepo.accountId', 'push.yml: args.ecr_repo.account_id'],
      ['ecrRepo.repoName', 'push.yml: args.ecr_repo.repo_name'],
      ['retries', 'push.yml: args.retries'],
      ['', 'push.yml: args'],
    ])('names %j as %j', (path, expected) => {
      expect(invocation.describeField(path)).toBe(expected);
    });

    it('names fields of a file that is the model itself', () => {
      const camel = buildPushArgs(none, config({ repo: 'r/a' }));
      expect(camel.describeField('repo')).toBe('push.yml: repo');
      expect(camel.describeField('')).toBe('push.yml');
    });
  });
});

describe('buildPushArgs: tag rules', () => {
  it("passes --tag-rule and --flavor to the model, replacing the file's tag_rules", () => {
    const invocation = buildPushArgs(
      flags({ tagRules: ['type=sha'], flavor: ['latest=false'] }),
      config({ repo: 'localhost:5000/app', tag_rules: ['type=ref,event=branch'] }),
    );
    expect(invocation.input).toMatchObject({ tagRules: ['type=sha'], flavor: ['latest=false'] });
    expect(invocation.input).not.toHaveProperty('tag_rules');
    expect(parsePushArgs(invocation.input).tagRules.map((r) => r.text)).toEqual(['type=sha']);
  });

  it('takes tagRules from the config file, and names the flag or the file field of a bad rule', () => {
    const fromFile = buildPushArgs(flags({}), config({ repo: 'localhost:5000/app', tagRules: ['type=sha'] }));
    expect(parsePushArgs(fromFile.input).tagRules).toHaveLength(1);
    expect(fromFile.describeField('tagRules[0]')).toBe('push.yml: tagRules[0]');
    const fromFlag = buildPushArgs(flags({ repo: 'localhost:5000/app', tagRules: ['type=sha', 'type=nope'] }));
    expect(fromFlag.describeField('tagRules[1]')).toBe('--tag-rule');
  });
});
