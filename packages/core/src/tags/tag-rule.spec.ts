import { ArgumentsError } from '../errors';
import { parseTagRule, parseTagRules, type TagRule } from './tag-rule';

describe('parseTagRule', () => {
  it.each<[string, Partial<TagRule>]>([
    [
      'type=semver,pattern={{version}}',
      { type: 'semver', pattern: '{{version}}', value: '', match: '', priority: 900 },
    ],
    [
      'type=semver,pattern={{version}},value=p1/v1.0.0,match=v(\\d.\\d.\\d)$',
      { value: 'p1/v1.0.0', match: 'v(\\d.\\d.\\d)$' },
    ],
    ['type=sha', { type: 'sha', format: 'short', prefix: 'sha-', priority: 100 }],
    ['type=sha,format=long,prefix=', { format: 'long', prefix: '' }],
    ['type=ref,event=pr', { type: 'ref', event: 'pr', prefix: 'pr-', priority: 600 }],
    ['type=ref,event=branch', { type: 'ref', event: 'branch', prefix: undefined }],
    ['type=raw,value=foo', { type: 'raw', value: 'foo', priority: 200, enable: 'true' }],
    ['type=raw,foo', { type: 'raw', value: 'foo' }],
    ['foo', { type: 'raw', value: 'foo' }],
    ['type=edge', { type: 'edge', branch: '', priority: 700 }],
    ['type=edge,branch=main', { branch: 'main' }],
    ['type=schedule', { type: 'schedule', pattern: 'nightly', priority: 1000 }],
    ['type=match,pattern=v(.*),group=1', { type: 'match', patternText: 'v(.*)', group: 1, priority: 800 }],
    ['type=match,pattern=\\d.\\d.\\d', { group: 0 }],
    ['type=raw,value=x,enable={{is_default_branch}},priority=5', { enable: '{{is_default_branch}}', priority: 5 }],
    [' Type = raw , Value = spaced ', { type: 'raw', value: 'spaced' }],
    ['type=raw,"value=a,b"', { value: 'a,b' }],
    ['type=raw,"value=say ""hi"""', { value: 'say "hi"' }],
    ['type=raw,value=x,prefix=a-,suffix=-z', { prefix: 'a-', suffix: '-z' }],
    // metadata-action's own parse cases: a quoted field may hold commas and $; a date pattern with tz=
    ['type=match,"pattern=^v(\\d.\\d.\\d)$",group=1', { type: 'match', patternText: '^v(\\d.\\d.\\d)$', group: 1 }],
    [
      'type=semver,priority=1,pattern={{version}},value=p1/v1.0.0,"match=v(\\d.\\d.\\d)$"',
      { priority: 1, value: 'p1/v1.0.0', match: 'v(\\d.\\d.\\d)$' },
    ],
    [
      "type=schedule,enable=true,pattern={{date 'YYYYMMDD' tz='Asia/Tokyo'}}",
      { pattern: "{{date 'YYYYMMDD' tz='Asia/Tokyo'}}" },
    ],
    ['type=match,"pattern=(\\d+),(\\d+)",group=2', { patternText: '(\\d+),(\\d+)', group: 2 }],
  ])('%s', (text, expected) => {
    expect(parseTagRule(text)).toMatchObject({ text, path: 'tagRules[0]', ...expected });
  });

  it.each([
    ['', 'the rule is empty; write e.g. type=semver,pattern={{version}}'],
    [
      'type=docker',
      'unknown type "docker"; use one of type=schedule, type=semver, type=match, type=edge, type=ref, type=raw, type=sha',
    ],
    ['type=pep440,pattern={{version}}', 'type=pep440 is not supported; use type=semver or type=match'],
    ['type=semver', 'type=semver needs a pattern, e.g. pattern={{version}} or pattern={{major}}.{{minor}}'],
    [
      'type=semver,pattern={{version}},event=tag',
      'unknown key "event" for type=semver; its keys are type=, enable=, priority=, prefix=, suffix=, pattern=, value=, match=',
    ],
    ['type=semver,pattern={{version}},match=v(', 'match=v( is not a valid regular expression'],
    ['type=match', 'type=match needs a pattern, e.g. pattern=v(.*),group=1'],
    ['type=match,pattern=v(.*),group=one', 'group=one is not a group number; write e.g. group=1'],
    ['type=match,pattern=[', 'pattern=[ is not a valid regular expression'],
    ['type=ref', 'type=ref needs an event: event=branch, event=tag or event=pr'],
    ['type=ref,event=push', 'event=push is not one of event=branch, event=tag, event=pr'],
    ['type=raw', 'type=raw needs a value, e.g. type=raw,value=stable'],
    ['type=sha,format=medium', 'format=medium is not one of format=short, format=long'],
    ['type=sha,priority=high', 'priority=high is not a whole number; write e.g. priority=500'],
    ['type=raw,value=a,value=b', '"value" is given twice; keep one'],
    ['type=raw,"value=a', 'a quoted field has no closing quote (")'],
    ['type=raw,"value=a"b', 'a quoted field must end at a comma'],
  ])('%j is refused: %s', (text, message) => {
    let error: unknown;
    try {
      parseTagRule(text, 'tagRules[3]');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ArgumentsError);
    expect((error as ArgumentsError).issues).toEqual([
      { path: 'tagRules[3]', message: expect.stringContaining(`${JSON.stringify(text)}: ${message}`) },
    ]);
  });
});

describe('parseTagRules', () => {
  it('orders by priority, highest first, keeping written order between equals, and names each by index', () => {
    const rules = parseTagRules([
      'type=sha',
      'type=raw,value=b',
      'type=semver,pattern={{version}}',
      'type=raw,value=a',
      'type=sha,priority=2000',
    ]);
    expect(rules.map((r) => [r.path, r.text])).toEqual([
      ['tagRules[4]', 'type=sha,priority=2000'],
      ['tagRules[2]', 'type=semver,pattern={{version}}'],
      ['tagRules[1]', 'type=raw,value=b'],
      ['tagRules[3]', 'type=raw,value=a'],
      ['tagRules[0]', 'type=sha'],
    ]);
  });

  it('names the field it was given, e.g. a CLI flag', () => {
    expect(() => parseTagRules(['type=sha', 'type=nope'], '--tag-rule')).toThrow(
      '--tag-rule[1]: "type=nope": unknown type "nope"',
    );
  });
});
