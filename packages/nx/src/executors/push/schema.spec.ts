import { readFileSync } from 'node:fs';
import { pushArgsShape } from '@dockpush/core/model';

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

describe('options of @dockpush/nx:push as Nx parses them', () => {
  // Nx's own option handling: what `nx run app:docker-push --tag=1.2.3` goes through.
  const { combineOptionsForExecutor } = require('nx/src/utils/params') as {
    combineOptionsForExecutor: (
      overrides: Record<string, unknown>,
      configuration: string,
      target: { options?: Record<string, unknown> },
      schema: unknown,
      defaultProjectName: string | null,
      relativeCwd: string,
    ) => Record<string, unknown>;
  };
  const schema = JSON.parse(readFileSync(schemaFile, 'utf8')) as unknown;

  it.each([
    ['--tag once', { tag: '1.2.3' }, ['1.2.3']],
    ['--tag twice', { tag: ['1.2.3', 'latest'] }, ['1.2.3', 'latest']],
    ['--tags', { tags: '1.2.3' }, ['1.2.3']],
  ])('accepts %s, as the CLI does', (_, overrides, tags) => {
    const options = combineOptionsForExecutor(
      overrides,
      '',
      { options: { repo: 'localhost:5000/app' } },
      schema,
      'app',
      '',
    );
    expect(options).toMatchObject({ repo: 'localhost:5000/app', tags });
    expect(options).not.toHaveProperty('tag');
  });
});
