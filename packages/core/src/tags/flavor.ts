import { ArgumentsError } from '../errors';
import { splitCsvFields, splitKeyValue } from './csv-fields';

/** metadata-action's `flavor`: global defaults for every rule. */
export interface Flavor {
  /** `auto`: add `latest` when the first rule that renders is a release (semver, match, ref tag). */
  latest: 'auto' | 'true' | 'false';
  prefix: string;
  /** Whether the prefix also goes on `latest` (`prefix=x,onlatest=true`). */
  prefixLatest: boolean;
  suffix: string;
  suffixLatest: boolean;
}

export const DEFAULT_FLAVOR: Flavor = {
  latest: 'auto',
  prefix: '',
  prefixLatest: false,
  suffix: '',
  suffixLatest: false,
};

/**
 * Parses flavor entries, each a CSV line such as `latest=false` or `suffix=-alpine,onlatest=true`;
 * later entries override earlier ones. `onlatest=` applies to the `prefix=`/`suffix=` before it.
 */
export function parseFlavor(entries: string | readonly string[] = [], path = 'flavor'): Flavor {
  const flavor: Flavor = { ...DEFAULT_FLAVOR };
  const list = typeof entries === 'string' ? [entries] : entries;
  list.forEach((entry, i) => {
    const where = typeof entries === 'string' ? path : `${path}[${i}]`;
    const fail = (message: string): never => {
      throw new ArgumentsError([{ path: where, message: `${JSON.stringify(entry)}: ${message}` }]);
    };
    let fields: string[];
    try {
      fields = splitCsvFields(entry);
    } catch (error) {
      return fail((error as Error).message);
    }
    let lastAffix: 'prefix' | 'suffix' | undefined;
    for (const field of fields) {
      const [key, value] = splitKeyValue(field);
      switch (key) {
        case 'latest':
          if (value !== 'auto' && value !== 'true' && value !== 'false') {
            fail(`latest=${value} is not one of latest=auto, latest=true, latest=false`);
          }
          flavor.latest = value as Flavor['latest'];
          break;
        case 'prefix':
        case 'suffix':
          flavor[key] = value;
          lastAffix = key;
          break;
        case 'onlatest':
          if (value !== 'true' && value !== 'false')
            fail(`onlatest=${value} is not one of onlatest=true, onlatest=false`);
          if (!lastAffix)
            fail(
              'onlatest= applies to a prefix= or suffix= written before it in the same entry, e.g. suffix=-alpine,onlatest=true',
            );
          flavor[lastAffix === 'prefix' ? 'prefixLatest' : 'suffixLatest'] = value === 'true';
          break;
        default:
          fail(
            key === undefined
              ? `"${field}" is not a key=value pair; flavor keys are latest=, prefix=, suffix=, onlatest=`
              : `unknown flavor key "${key}"; flavor keys are latest=, prefix=, suffix=, onlatest=`,
          );
      }
    }
  });
  return flavor;
}
