import { readFileSync } from 'node:fs';
import { pushArgsShape } from '@dockpush/core';

/** The committed schema.json must be what the generator makes from core's model now. */
const { renderExecutorSchema, schemaFile } = require('../../../scripts/generate-schema.js') as {
  renderExecutorSchema: () => string;
  schemaFile: string;
};

describe('schema.json of @dockpush/nx:push', () => {
  const committed = readFileSync(schemaFile, 'utf8');

  it('is up to date with the zod model (else: node packages/nx/scripts/generate-schema.js)', () => {
    expect(committed).toBe(renderExecutorSchema());
  });

  it('has exactly the options of the model, and refuses others as the model does', () => {
    const schema = JSON.parse(committed) as { properties: Record<string, unknown>; additionalProperties: boolean };
    expect(Object.keys(schema.properties).sort()).toEqual(Object.keys(pushArgsShape.shape).sort());
    expect(schema.additionalProperties).toBe(false);
  });

  it('is an Nx v2 executor schema', () => {
    expect(JSON.parse(committed)).toMatchObject({ version: 2, type: 'object' });
  });
});
