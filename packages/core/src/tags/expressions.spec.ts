import { formatDate } from './date-format';
import { isSingleExpression, renderExpressions } from './expressions';

describe('renderExpressions', () => {
  const helpers = {
    branch: () => 'main',
    echo: (args: string[], options: Record<string, string>) => `${args.join('+')}|${JSON.stringify(options)}`,
  };
  it.each([
    ['plain', 'plain'],
    ['{{branch}}-x', 'main-x'],
    ['{{ branch }}', 'main'],
    ["{{echo 'a b' \"c\" k='v'}}", 'a b+c|{"k":"v"}'],
    ['{{branch}}{{branch}}', 'mainmain'],
  ])('%s → %s', (template, expected) => {
    expect(renderExpressions(template, helpers)).toBe(expected);
  });

  it.each([
    ['{{nope}}', '{{nope}} is not a known expression here; known: {{branch}}, {{echo}}'],
    ['{{}}', 'an expression {{}} is empty'],
    ["{{'x'}}", "the expression {{'x'}} must start with a name"],
    ['{{echo ~}}', 'cannot read the expression {{echo ~}} near "~"'],
    ['{{constructor}}', '{{constructor}} is not a known expression'],
  ])('%s is refused', (template, message) => {
    expect(() => renderExpressions(template, helpers)).toThrow(message);
  });

  it.each([
    ['{{raw}}', true],
    ['{{ raw}}', true],
    ['{{ raw }}.{{ version }}', false],
    ['v{{raw}}', false],
  ])('isSingleExpression(%s, raw) is %s (metadata-action isRawStatement cases)', (pattern, expected) => {
    expect(isSingleExpression(pattern, 'raw')).toBe(expected);
  });
});

describe('formatDate', () => {
  const date = new Date('2020-01-10T00:30:05.042Z');
  it.each([
    ['YYYYMMDD', 'UTC', '20200110'],
    ['YYYYMMDD-HHmmss', 'Asia/Tokyo', '20200110-093005'],
    ['YY.M.D H:m:s.SSS', 'UTC', '20.1.10 0:30:5.042'],
    ['[build]-YYYY', 'UTC', 'build-2020'],
    ['YYYY-MM-DD', 'America/New_York', '2020-01-09'],
  ])('%s in %s → %s', (format, tz, expected) => {
    expect(formatDate(date, format, tz)).toBe(expected);
  });
});
