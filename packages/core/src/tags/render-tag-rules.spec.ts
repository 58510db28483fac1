import { ArgumentsError } from '../errors';
import { DEFAULT_FLAVOR, parseFlavor, type Flavor } from './flavor';
import { renderTagRules, type TagRulesResult } from './render-tag-rules';
import { contextFromRef, type TagContext } from './tag-context';
import { parseTagRules } from './tag-rule';

const SHA = '860c1904a1ce19322e91ac35af1ab07466440c37';
const NOW = new Date('2020-01-10T00:30:00.000Z');

/** A context as GitHub Actions gives it for `ref`, on a repository whose default branch is master. */
function at(ref: string, extra: Partial<TagContext> = {}): TagContext {
  const fields = contextFromRef(ref);
  if (!fields) throw new Error(`bad test ref ${ref}`);
  return { ...fields, sha: SHA, defaultBranch: 'master', date: NOW, source: 'test', ...extra };
}

function render(rules: string[], context: TagContext, flavor: Flavor | string[] = DEFAULT_FLAVOR): TagRulesResult {
  return renderTagRules(parseTagRules(rules), Array.isArray(flavor) ? parseFlavor(flavor) : flavor, context);
}

function tagsOf(rules: string[], context: TagContext, flavor?: Flavor | string[]): string[] {
  return render(rules, context, flavor).tags.map((t) => t.tag);
}

// metadata-action's default rules, used by its README's first example.
const DEFAULT_RULES = ['type=schedule', 'type=ref,event=branch', 'type=ref,event=tag', 'type=ref,event=pr'];

describe('renderTagRules: metadata-action README, "Basic" (its default rules)', () => {
  it.each([
    ['pull_request', 'refs/pull/2/merge', ['pr-2']],
    ['push', 'refs/heads/master', ['master']],
    ['push', 'refs/heads/releases/v1', ['releases-v1']],
    ['push tag', 'refs/tags/v1.2.3', ['v1.2.3', 'latest']],
    ['push tag', 'refs/tags/v2.0.8-beta.67', ['v2.0.8-beta.67', 'latest']],
    ['workflow_dispatch', 'refs/heads/master', ['master']],
  ])('%s %s → %j', (_event, ref, expected) => {
    expect(tagsOf(DEFAULT_RULES, at(ref))).toEqual(expected);
  });
});

describe('renderTagRules: metadata-action README, "Semver"', () => {
  const rules = [
    'type=ref,event=branch',
    'type=ref,event=pr',
    'type=semver,pattern={{version}}',
    'type=semver,pattern={{major}}.{{minor}}',
  ];
  it.each([
    ['pull_request', 'refs/pull/2/merge', ['pr-2']],
    ['push', 'refs/heads/master', ['master']],
    ['push', 'refs/heads/releases/v1', ['releases-v1']],
    ['push tag', 'refs/tags/v1.2.3', ['1.2.3', '1.2', 'latest']],
    ['push tag', 'refs/tags/v2.0.8-beta.67', ['2.0.8-beta.67']],
  ])('%s %s → %j', (_event, ref, expected) => {
    expect(tagsOf(rules, at(ref))).toEqual(expected);
  });

  it('the series tags of a pre-release are reported as already produced, not silently dropped', () => {
    const result = render(rules, at('refs/tags/v2.0.8-beta.67'));
    expect(result.skipped).toContainEqual({
      rule: 'type=semver,pattern={{major}}.{{minor}}',
      path: 'tagRules[3]',
      reason: 'it renders 2.0.8-beta.67, which type=semver,pattern={{version}} already produced',
    });
  });
});

describe('renderTagRules: type=semver patterns (README table)', () => {
  it.each([
    ['v1.2.3', '{{raw}}', '', 'v1.2.3'],
    ['v1.2.3', '{{version}}', '', '1.2.3'],
    ['v1.2.3', '{{major}}.{{minor}}', '', '1.2'],
    ['v1.2.3', 'v{{major}}', '', 'v1'],
    ['v1.2.3', '{{minor}}', '', '2'],
    ['v1.2.3', '{{patch}}', '', '3'],
    ['p1/v1.2.3', '{{version}}', 'v(\\d.\\d.\\d)$', '1.2.3'],
    ['v2.0.8-beta.67', '{{raw}}', '', 'v2.0.8-beta.67'],
    ['v2.0.8-beta.67', '{{version}}', '', '2.0.8-beta.67'],
    ['v2.0.8-beta.67', '{{major}}', '', '2.0.8-beta.67'],
    ['v2.0.8-beta.67', '{{major}}.{{minor}}', '', '2.0.8-beta.67'],
  ])('tag %s, pattern %s, match %s → %s', (tag, pattern, match, expected) => {
    const rule = `type=semver,pattern=${pattern}${match ? `,match=${match}` : ''}`;
    expect(tagsOf([rule], at(`refs/tags/${tag}`), ['latest=false'])).toEqual([expected]);
  });

  it('value= renders a version on any build, e.g. from a branch', () => {
    expect(tagsOf(['type=semver,pattern={{version}},value=v1.0.0'], at('refs/heads/master'))).toEqual([
      '1.0.0',
      'latest',
    ]);
  });

  it("renders from a semver input (a release tool's resolved version) in place of the git tag", () => {
    const rules = [
      'type=semver,pattern={{major}}.{{minor}}',
      'type=match,pattern=\\d+',
      'type=semver,pattern={{version}},value=v3.0.0',
    ];
    const options = { semver: '1.2.0' };
    const onBranch = renderTagRules(parseTagRules(rules), DEFAULT_FLAVOR, at('refs/heads/master'), options);
    expect(onBranch.tags.map((t) => t.tag)).toEqual(['1.2', '3.0.0', '1', 'latest']);
    const onOlderTag = renderTagRules(parseTagRules(rules), DEFAULT_FLAVOR, at('refs/tags/v1.1.0'), options);
    expect(onOlderTag.tags.map((t) => t.tag)).toEqual(['1.2', '3.0.0', '1', 'latest']);
  });

  it('major version zero (README): 0.1.2 and 0.1, and {{major}} disabled by enable=false', () => {
    const rules = [
      'type=semver,pattern={{version}}',
      'type=semver,pattern={{major}}.{{minor}}',
      'type=semver,pattern={{major}},enable=false',
    ];
    expect(tagsOf(rules, at('refs/tags/v0.1.2'))).toEqual(['0.1.2', '0.1', 'latest']);
  });

  it.each([
    ['refs/heads/master', 'the build is for branch master, not a git tag, and the rule has no value='],
    ['refs/tags/v1.2', 'v1.2 is not a semver version (such as v1.2.3 or 1.2.3-rc.1)'],
    ['refs/tags/release-7', 'release-7 is not a semver version (such as v1.2.3 or 1.2.3-rc.1)'],
  ])('on %s it renders nothing and says why', (ref, reason) => {
    const result = render(['type=semver,pattern={{version}}'], at(ref));
    expect(result.tags).toEqual([]);
    expect(result.skipped).toEqual([{ rule: 'type=semver,pattern={{version}}', path: 'tagRules[0]', reason }]);
  });
});

describe('renderTagRules: type=match (README table)', () => {
  it.each([
    ['v1.2.3', '\\d.\\d.\\d', '0', '1.2.3'],
    ['v2.0.8-beta.67', 'v(.*)', '1', '2.0.8-beta.67'],
    ['v2.0.8-beta.67', 'v(\\d.\\d)', '1', '2.0'],
    ['20200110-RC2', '\\d+', '0', '20200110'],
    ['p1/v1.2.3', 'p1/v(\\d.\\d.\\d)', '1', '1.2.3'],
  ])('tag %s, pattern %s, group %s → %s', (tag, pattern, group, expected) => {
    expect(tagsOf([`type=match,pattern=${pattern},group=${group}`], at(`refs/tags/${tag}`))).toEqual([
      expected,
      'latest',
    ]);
  });

  it('a pattern that does not match renders nothing and says so', () => {
    expect(render(['type=match,pattern=^x(\\d+)'], at('refs/tags/v1')).skipped[0]?.reason).toBe(
      'pattern=^x(\\d+) does not match v1',
    );
  });

  it('a /regex/flags literal is honoured', () => {
    expect(tagsOf(['type=match,pattern=/^V(\\d+)$/i,group=1'], at('refs/tags/v7'))).toEqual(['7', 'latest']);
  });
});

describe('renderTagRules: type=ref (README table)', () => {
  it.each([
    ['pull_request', 'refs/pull/2/merge', 'pr', 'pr-2'],
    ['push', 'refs/heads/master', 'branch', 'master'],
    ['push', 'refs/heads/my/branch', 'branch', 'my-branch'],
    ['push tag', 'refs/tags/v1.2.3', 'tag', 'v1.2.3'],
    ['push tag', 'refs/tags/v2.0.8-beta.67', 'tag', 'v2.0.8-beta.67'],
    ['workflow_dispatch', 'refs/heads/master', 'branch', 'master'],
  ])('%s %s with event=%s → %s', (_event, ref, event, expected) => {
    expect(tagsOf([`type=ref,event=${event}`], at(ref), ['latest=false'])).toEqual([expected]);
  });

  it.each([
    ['feature/Fancy Thing!', 'feature-Fancy-Thing-'],
    ['deps/@types/node', 'deps-types-node'],
    ['-leading/dash', 'leading-dash'],
    ['x'.repeat(200), 'x'.repeat(128)],
  ])('the branch %j becomes the valid tag %j', (branch, expected) => {
    expect(tagsOf(['type=ref,event=branch'], at(`refs/heads/${branch}`))).toEqual([expected]);
  });

  it.each([
    ['branch', 'refs/tags/v1.2.3', 'the build is for tag v1.2.3, not a branch'],
    ['tag', 'refs/heads/main', 'the build is for branch main, not a git tag'],
    ['pr', 'refs/heads/main', 'the build is for branch main, not a pull request'],
  ])('event=%s on %s renders nothing: %s', (event, ref, reason) => {
    expect(render([`type=ref,event=${event}`], at(ref)).skipped[0]?.reason).toBe(reason);
  });
});

describe('renderTagRules: global expressions (README tables)', () => {
  it.each([
    ['refs/pull/2/merge', []],
    ['refs/heads/master', ['master']],
    ['refs/heads/my/branch', ['my-branch']],
    ['refs/tags/v1.2.3', []],
  ])('{{branch}} on %s → %j', (ref, expected) => {
    expect(tagsOf(['type=raw,value={{branch}}'], at(ref))).toEqual(expected);
  });

  it.each([
    ['refs/pull/2/merge', []],
    ['refs/heads/master', []],
    ['refs/tags/v1.2.3', ['v1.2.3']],
  ])('{{tag}} on %s → %j', (ref, expected) => {
    expect(tagsOf(['type=raw,value={{tag}}'], at(ref))).toEqual(expected);
  });

  it('{{sha}} is the short SHA, {{branch}} a prefix (README examples)', () => {
    expect(
      tagsOf(['type=sha,prefix={{branch}}-', 'type=raw,value=mytag-{{branch}}-{{sha}}'], at('refs/heads/dev')),
    ).toEqual(['mytag-dev-860c190', 'dev-860c190']);
  });

  it('{{base_ref}} is the target branch of a pull request', () => {
    expect(tagsOf(['type=raw,value=into-{{base_ref}}'], at('refs/pull/2/merge', { baseBranch: 'master' }))).toEqual([
      'into-master',
    ]);
  });

  it.each([
    ["{{date 'YYYYMMDD'}}", '20200110'],
    ["{{date 'YYYYMMDD-HHmmss' tz='Asia/Tokyo'}}", '20200110-093000'],
    ["{{commit_date 'YYYY.MM.DD'}}", '2019.12.31'],
  ])('%s → %s', (expression, expected) => {
    const context = at('refs/heads/master', { commitDate: new Date('2019-12-31T23:00:00Z') });
    expect(tagsOf([`type=raw,value=${expression}`], context)).toEqual([expected]);
  });

  it.each([
    ['refs/heads/master', ['latest']],
    ['refs/heads/dev', []],
    ['refs/tags/v1.2.3', []],
  ])('latest only on the default branch with enable={{is_default_branch}}: %s → %j', (ref, expected) => {
    expect(tagsOf(['type=raw,value=latest,enable={{is_default_branch}}'], at(ref))).toEqual(expected);
  });

  it('says when enable= is false because the default branch is unknown', () => {
    const result = render(
      ['type=raw,value=latest,enable={{is_default_branch}}'],
      at('refs/heads/main', { defaultBranch: undefined }),
    );
    expect(result.skipped[0]?.reason).toBe(
      'enable={{is_default_branch}} renders false (the default branch is unknown, so this is not taken to be the default branch)',
    );
  });
});

describe('renderTagRules: type=schedule, type=edge, type=sha, type=raw', () => {
  it.each([
    ['type=schedule', 'nightly'],
    ["type=schedule,pattern={{date 'YYYYMMDD'}}", '20200110'],
    ["type=schedule,pattern={{date 'YYYYMMDD-HHmmss' tz='Asia/Tokyo'}}", '20200110-093000'],
  ])('on a scheduled run %s → %s', (rule, expected) => {
    expect(tagsOf([rule], at('refs/heads/master', { event: 'schedule' }))).toEqual([expected]);
  });

  it('a scheduled run also renders branch rules, after the schedule rule', () => {
    expect(tagsOf(DEFAULT_RULES, at('refs/heads/master', { event: 'schedule' }))).toEqual(['nightly', 'master']);
  });

  it('type=schedule renders nothing outside a scheduled run', () => {
    expect(render(['type=schedule'], at('refs/heads/master')).skipped[0]?.reason).toBe(
      'this is not a scheduled run (branch master)',
    );
  });

  it.each([
    ['type=edge', 'refs/heads/master', ['edge']],
    ['type=edge', 'refs/heads/dev', []],
    ['type=edge,branch=dev', 'refs/heads/dev', ['edge']],
    ['type=edge', 'refs/tags/v1.2.3', []],
  ])('%s on %s → %j', (rule, ref, expected) => {
    expect(tagsOf([rule], at(ref))).toEqual(expected);
  });

  it('type=edge without branch= and with no known default branch says how to fix it', () => {
    expect(render(['type=edge'], at('refs/heads/main', { defaultBranch: undefined })).skipped[0]?.reason).toBe(
      'the default branch is unknown; name it on the rule, e.g. type=edge,branch=main',
    );
  });

  it.each([
    ['type=sha', 'sha-860c190'],
    ['type=sha,format=long', `sha-${SHA}`],
    ['type=sha,prefix=', '860c190'],
    ['type=sha,prefix=git-,suffix=-x', 'git-860c190-x'],
  ])('%s → %s', (rule, expected) => {
    expect(tagsOf([rule], at('refs/heads/master'))).toEqual([expected]);
  });

  it('a longer short SHA can be asked for, as DOCKER_METADATA_SHORT_SHA_LENGTH does', () => {
    const result = renderTagRules(parseTagRules(['type=sha']), DEFAULT_FLAVOR, at('refs/heads/master'), {
      shortShaLength: 12,
    });
    expect(result.tags.map((t) => t.tag)).toEqual(['sha-860c1904a1ce']);
  });

  it('type=sha with no known SHA says why', () => {
    expect(render(['type=sha'], at('refs/heads/master', { sha: undefined })).skipped[0]?.reason).toBe(
      'no commit SHA is known (not a git repository, and no CI variables give one)',
    );
  });

  it.each([
    [
      ['type=raw,value=foo', 'type=raw,value=bar'],
      ['foo', 'bar'],
    ],
    [
      ['type=raw,foo', 'type=raw,bar'],
      ['foo', 'bar'],
    ],
    [
      ['foo', 'bar'],
      ['foo', 'bar'],
    ],
    [['type=raw,value=foo,enable=false', 'bar'], ['bar']],
  ])('raw %j → %j', (rules, expected) => {
    expect(tagsOf(rules, at('refs/heads/master'))).toEqual(expected);
  });
});

describe('renderTagRules: flavor and priority', () => {
  const release = at('refs/tags/v1.2.3');
  it.each<[string, string[], string[], TagContext, string[]]>([
    ['latest=false drops latest', ['type=semver,pattern={{version}}'], ['latest=false'], release, ['1.2.3']],
    [
      'latest=true adds it on a branch',
      ['type=ref,event=branch'],
      ['latest=true'],
      at('refs/heads/master'),
      ['master', 'latest'],
    ],
    [
      'prefix applies to every tag but latest',
      ['type=semver,pattern={{version}}'],
      ['prefix=app-'],
      release,
      ['app-1.2.3', 'latest'],
    ],
    [
      'prefix with onlatest=true',
      ['type=semver,pattern={{version}}'],
      ['prefix=app-,onlatest=true'],
      release,
      ['app-1.2.3', 'app-latest'],
    ],
    [
      'suffix with onlatest=true',
      ['type=semver,pattern={{version}}'],
      ['suffix=-alpine,onlatest=true'],
      release,
      ['1.2.3-alpine', 'latest-alpine'],
    ],
    [
      'a rule prefix replaces the flavor prefix',
      ['type=semver,pattern={{version}},prefix=v'],
      ['prefix=app-'],
      release,
      ['v1.2.3', 'latest'],
    ],
    [
      'pr- is the rule prefix of event=pr, so the flavor prefix is not added',
      ['type=ref,event=pr'],
      ['prefix=app-'],
      at('refs/pull/7/merge'),
      ['pr-7'],
    ],
    [
      'type=sha keeps its own sha- prefix rather than the flavor prefix',
      ['type=sha'],
      ['prefix={{branch}}-'],
      at('refs/heads/dev'),
      ['sha-860c190'],
    ],
    ['a flavor suffix applies to sha tags', ['type=sha'], ['suffix=-slim'], at('refs/heads/dev'), ['sha-860c190-slim']],
    [
      'a flavor prefix with an expression on a branch rule',
      ['type=ref,event=branch'],
      ['prefix={{sha}}-'],
      at('refs/heads/dev'),
      ['860c190-dev'],
    ],
  ])('%s', (_name, rules, flavor, context, expected) => {
    expect(tagsOf(rules, context, flavor)).toEqual(expected);
  });

  it('rules render in priority order, whatever order they are written in', () => {
    expect(tagsOf(['type=sha', 'type=ref,event=tag', 'type=semver,pattern={{version}}'], release)).toEqual([
      '1.2.3',
      'v1.2.3',
      'sha-860c190',
      'latest',
    ]);
  });

  it('the first rule that renders decides latest=auto: a higher-priority sha rule means no latest', () => {
    expect(tagsOf(['type=sha,priority=1000', 'type=semver,pattern={{version}}'], release)).toEqual([
      'sha-860c190',
      '1.2.3',
    ]);
  });

  it('latest from a rule and from the flavor is pushed once', () => {
    expect(tagsOf(['type=semver,pattern={{version}}', 'type=raw,value=latest'], release)).toEqual(['1.2.3', 'latest']);
  });

  it('no tag renders, so no latest either, even with latest=true', () => {
    expect(tagsOf(['type=ref,event=tag'], at('refs/heads/master'), ['latest=true'])).toEqual([]);
  });

  it('each tag names the rule that produced it', () => {
    expect(render(['type=ref,event=branch', 'type=semver,pattern={{version}}'], release).tags).toEqual([
      { tag: '1.2.3', rule: 'type=semver,pattern={{version}}', path: 'tagRules[1]' },
      {
        tag: 'latest',
        rule: 'flavor latest=auto (type=semver,pattern={{version}} renders a release)',
        path: 'flavor',
      },
    ]);
  });
});

describe('renderTagRules: errors name the rule', () => {
  it.each([
    [
      'type=raw,value=-foo',
      'tagRules[0]: type=raw,value=-foo renders "-foo", which is not a valid Docker tag: a tag cannot start with "." or "-". Change the rule\'s value, prefix or suffix.',
    ],
    ['type=raw,value=' + 'a'.repeat(129), 'is not a valid Docker tag: it has 129 characters, more than 128'],
    [
      'type=raw,value=x,enable=yes',
      'tagRules[0]: type=raw,value=x,enable=yes: enable=yes renders "yes"; it must render true or false',
    ],
    [
      'type=raw,value={{nope}}',
      'tagRules[0]: type=raw,value={{nope}}: {{nope}} is not a known expression here; known: {{branch}}',
    ],
    ["type=raw,value={{date 'dddd'}}", 'the date format token "dddd" is not supported'],
    ["type=raw,value={{date 'YYYY' tz='Mars/Base'}}", 'the time zone "Mars/Base" is unknown'],
    [
      'type=semver,pattern={{branch}}',
      '{{branch}} is not a known expression here; known: {{raw}}, {{version}}, {{major}}, {{minor}}, {{patch}}',
    ],
  ])('%s', (rule, message) => {
    const run = (): unknown => render([rule], at('refs/tags/v1.2.3'));
    expect(run).toThrow(ArgumentsError);
    expect(run).toThrow(message);
  });

  it('an invalid latest tag names the flavor', () => {
    const suffix = 'x'.repeat(124);
    expect(() => render(['type=ref,event=tag'], at('refs/tags/v1'), [`suffix=${suffix},onlatest=true`])).toThrow(
      `flavor: flavor latest=auto renders "latest${suffix}", which is not a valid Docker tag: it has 130 characters`,
    );
  });
});
