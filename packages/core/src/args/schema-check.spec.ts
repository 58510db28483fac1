import { conformsToSchema } from './schema-check';

const schema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  type: 'object',
  properties: {
    name: { type: 'string', minLength: 1, pattern: '^[a-z]+$', description: 'a name' },
    count: { type: 'integer', minimum: 0, maximum: 10 },
    ratio: { type: 'number', exclusiveMinimum: 0 },
    on: { type: 'boolean' },
    mode: { type: 'string', enum: ['a', 'b'] },
    list: { type: 'array', items: { type: 'string' } },
    either: { anyOf: [{ type: 'string' }, { type: 'object', properties: { x: { type: 'string' } }, required: ['x'] }] },
    map: { type: 'object', propertyNames: { type: 'string' }, additionalProperties: { type: 'string' } },
  },
  required: ['name'],
  additionalProperties: false,
};

describe('conformsToSchema', () => {
  it.each([
    [{ name: 'app' }],
    [{ name: 'app', count: 0, ratio: 0.5, on: false, mode: 'b', list: [], either: 'x', map: { k: 'v' } }],
    [{ name: 'app', either: { x: 'y' } }],
    [{ name: 'app', count: undefined }],
    [{ name: 'app', map: Object.assign(Object.create(null) as object, { k: 'v' }) }],
  ])('yes: %j', (value) => {
    expect(conformsToSchema(schema, value)).toBe(true);
  });

  it.each([
    ['a required key missing', {}],
    ['a required key undefined', { name: undefined }],
    ['an empty string', { name: '' }],
    ['a pattern not matched', { name: 'App' }],
    ['a number for a string', { name: 1 }],
    ['a fraction for an integer', { name: 'a', count: 1.5 }],
    ['below the minimum', { name: 'a', count: -1 }],
    ['above the maximum', { name: 'a', count: 11 }],
    ['at an exclusive minimum', { name: 'a', ratio: 0 }],
    ['NaN', { name: 'a', ratio: NaN }],
    ['Infinity', { name: 'a', ratio: Infinity }],
    ['a string for a boolean', { name: 'a', on: 'true' }],
    ['outside the enum', { name: 'a', mode: 'c' }],
    ['a wrong item', { name: 'a', list: ['x', 1] }],
    ['a hole in an array', { name: 'a', list: new Array<string>(2) }],
    ['no branch of anyOf', { name: 'a', either: 3 }],
    ['an unknown key of a strict object', { name: 'a', other: 1 }],
    ['an unknown key, even undefined', { name: 'a', other: undefined }],
    ['an unlisted key of an open object (zod would drop it)', { name: 'a', either: { x: 'y', z: 'w' } }],
    ['a wrong value in a map', { name: 'a', map: { k: 1 } }],
    ['a class instance', { name: 'a', map: new (class Map2 {})() }],
    ['an array for an object', []],
    ['null', null],
  ])('no: %s', (_why, value) => {
    expect(conformsToSchema(schema, value)).toBe(false);
  });

  it('says no to a keyword it does not know, rather than guess', () => {
    expect(conformsToSchema({ type: 'string', maxLength: 3 }, 'ab')).toBe(false);
    expect(conformsToSchema({ type: 'string' }, 'ab')).toBe(true);
  });
});
