import { ArgumentsError } from '../errors';
import { DEFAULT_FLAVOR, parseFlavor, type Flavor } from './flavor';

describe('parseFlavor', () => {
  it.each<[string | string[], Partial<Flavor>]>([
    [[], DEFAULT_FLAVOR],
    ['latest=false', { latest: 'false' }],
    [['latest=true', 'prefix=app-'], { latest: 'true', prefix: 'app-', prefixLatest: false }],
    [['prefix=app-,onlatest=true'], { prefix: 'app-', prefixLatest: true, suffixLatest: false }],
    [
      ['suffix=-alpine,onlatest=true', 'prefix=x-'],
      { suffix: '-alpine', suffixLatest: true, prefix: 'x-', prefixLatest: false },
    ],
    [['latest=auto', 'prefix=', 'suffix='], DEFAULT_FLAVOR],
    [['latest=false', 'latest=auto'], { latest: 'auto' }],
  ])('%j', (entries, expected) => {
    expect(parseFlavor(entries)).toEqual({ ...DEFAULT_FLAVOR, ...expected });
  });

  it.each([
    [['latest=maybe'], 'flavor[0]', 'latest=maybe is not one of latest=auto, latest=true, latest=false'],
    [['onlatest=true'], 'flavor[0]', 'onlatest= applies to a prefix= or suffix= written before it'],
    [['prefix=a', 'suffix=b,onlatest=yes'], 'flavor[1]', 'onlatest=yes is not one of onlatest=true, onlatest=false'],
    [['tag=1'], 'flavor[0]', 'unknown flavor key "tag"; flavor keys are latest=, prefix=, suffix=, onlatest='],
    [['latest'], 'flavor[0]', '"latest" is not a key=value pair'],
    ['"prefix=x', 'flavor', 'a quoted field has no closing quote'],
  ])('%j is refused at %s: %s', (entries, path, message) => {
    let error: unknown;
    try {
      parseFlavor(entries);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ArgumentsError);
    expect((error as ArgumentsError).issues[0]?.path).toBe(path);
    expect((error as ArgumentsError).issues[0]?.message).toContain(message);
  });
});
