/**
 * A quick yes to "does this value conform to the model?", from the JSON Schema generated from the
 * zod model (push-args.schema.json), without loading zod. It answers yes only when sure: any
 * keyword it does not know, a value zod would reshape (a key an open object does not list), or a
 * non-plain object makes it answer no, and the caller then asks zod itself.
 */

type Schema = { readonly [keyword: string]: unknown };

/** Keywords that say nothing about validity. */
const ANNOTATIONS = new Set(['$schema', 'description', 'title']);
const KNOWN = new Set([
  'type',
  'properties',
  'additionalProperties',
  'required',
  'minLength',
  'pattern',
  'anyOf',
  'items',
  'propertyNames',
  'enum',
  'minimum',
  'maximum',
  'exclusiveMinimum',
]);
const patterns = new Map<string, RegExp>();

/** Whether `value` surely conforms to `schema`; false means "not sure", never "surely not". */
export function conformsToSchema(schema: Schema, value: unknown): boolean {
  for (const [keyword, expected] of Object.entries(schema)) {
    if (ANNOTATIONS.has(keyword)) continue;
    if (!KNOWN.has(keyword) || !satisfies(keyword, expected, schema, value)) return false;
  }
  return true;
}

function satisfies(keyword: string, expected: unknown, schema: Schema, value: unknown): boolean {
  switch (keyword) {
    case 'type':
      return hasType(expected, value);
    case 'enum':
      return Array.isArray(expected) && expected.includes(value);
    case 'anyOf':
      return Array.isArray(expected) && expected.some((branch) => conformsToSchema(branch as Schema, value));
    case 'minLength':
      return typeof value !== 'string' || (typeof expected === 'number' && value.length >= expected);
    case 'pattern':
      return typeof value !== 'string' || (typeof expected === 'string' && compiled(expected).test(value));
    case 'minimum':
      return typeof value !== 'number' || (typeof expected === 'number' && value >= expected);
    case 'maximum':
      return typeof value !== 'number' || (typeof expected === 'number' && value <= expected);
    case 'exclusiveMinimum':
      return typeof value !== 'number' || (typeof expected === 'number' && value > expected);
    case 'items':
      // An index loop, not every(): a hole is undefined, which no item schema allows.
      if (!Array.isArray(value)) return true;
      for (let i = 0; i < value.length; i++) if (!conformsToSchema(expected as Schema, value[i])) return false;
      return true;
    case 'required':
      return (
        !isPlainObject(value) || (Array.isArray(expected) && expected.every((key: string) => value[key] !== undefined))
      );
    case 'properties':
    case 'additionalProperties':
    case 'propertyNames':
      return !isPlainObject(value) || objectConforms(schema, value);
    default:
      return false;
  }
}

/** Every key is listed and conforms, or is allowed by `additionalProperties`; an absent or undefined optional key is fine. */
function objectConforms(schema: Schema, value: Record<string, unknown>): boolean {
  // Keys zod reads and Object.entries does not (symbols), or that zod drops (__proto__): zod's to judge.
  if (Object.getOwnPropertySymbols(value).some((key) => Object.prototype.propertyIsEnumerable.call(value, key))) {
    return false;
  }
  if (Object.prototype.hasOwnProperty.call(value, '__proto__')) return false;
  const properties = (schema.properties ?? {}) as Record<string, Schema>;
  const additional = schema.additionalProperties;
  const names = schema.propertyNames as Schema | undefined;
  for (const [key, item] of Object.entries(value)) {
    if (names && !conformsToSchema(names, key)) return false;
    const listed = Object.prototype.hasOwnProperty.call(properties, key) ? properties[key] : undefined;
    if (listed) {
      if (item !== undefined && !conformsToSchema(listed, item)) return false;
    } else if (additional === undefined || additional === false || additional === true) {
      // Not listed: a strict model refuses it, an open one drops it (zod's output differs from the input).
      return false;
    } else if (!conformsToSchema(additional as Schema, item)) {
      return false;
    }
  }
  return true;
}

function hasType(expected: unknown, value: unknown): boolean {
  switch (expected) {
    case 'string':
      return typeof value === 'string';
    case 'boolean':
      return typeof value === 'boolean';
    case 'number':
      return typeof value === 'number' && Number.isFinite(value);
    case 'integer':
      return Number.isSafeInteger(value);
    case 'array':
      return Array.isArray(value);
    case 'object':
      return isPlainObject(value);
    default:
      return false;
  }
}

function compiled(pattern: string): RegExp {
  let regex = patterns.get(pattern);
  if (!regex) patterns.set(pattern, (regex = new RegExp(pattern)));
  return regex;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}
