import { readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { pushArgsShape } from './push-args-model';
import pushArgsJsonSchema from './push-args.schema.json';
import { conformsToSchema } from './schema-check';

const schemaFile = path.join(__dirname, 'push-args.schema.json');

it('push-args.schema.json is what the model generates now (else: node packages/core/scripts/generate-args-schema.js)', () => {
  const generated = `${JSON.stringify(z.toJSONSchema(pushArgsShape, { io: 'input' }), null, 2)}\n`;
  expect(readFileSync(schemaFile, 'utf8')).toBe(generated);
});

/** Inputs near the model's edges: each is judged by the quick check and by zod. */
const VALID: Record<string, unknown>[] = [
  { repo: 'localhost:5000/app' },
  { repo: 'localhost:5000/app', tags: ['1.0', 'latest'], source: 'app:dev', dryRun: true },
  { repo: 'r/app', engine: 'registry', compression: 'zstd', compressionLevel: 19, timeout: 0.5 },
  { ecrRepo: { repoName: 'team/app', accountId: '123456789012', awsRegion: 'us-east-1' }, createRepository: true },
  { ecrRepo: { repoName: 'app', registryAlias: 'myalias' } },
  { image: 'app:1', auth: { username: 'u', password: 'p' } },
  { image: { repo: 'app', tags: ['1'], id: 'sha256:abc', uri: { '1': 'app:1' } } },
  { repo: 'r/app', auth: { identityToken: 't' }, retries: 0, concurrency: 32, keepLocalTags: false },
  { repo: 'r/app', tagRules: ['type=sha'], flavor: ['latest=false'], outputFile: 'out.json' },
];
const INVALID: Record<string, unknown>[] = [
  { repo: 'r/app', tags: [1] },
  { repo: 'r/app', tags: 'latest' },
  { repo: 'r/app', retries: 11 },
  { repo: 'r/app', retries: 1.5 },
  { repo: 'r/app', concurrency: 0 },
  { repo: 'r/app', timeout: 0 },
  { repo: 'r/app', timeout: 86_401 },
  { repo: 'r/app', engine: 'podman' },
  { repo: 'r/app', compression: 'brotli' },
  { repo: 'r/app', compressionLevel: 20 },
  { repo: 'r/app', auth: { username: 'u' } },
  { repo: 'r/app', auth: { username: 'u', password: 'p', identityToken: 't' } },
  { repo: 'r/app', auth: { username: '', password: 'p' } },
  { image: '' },
  { image: { repo: 'app' } },
  { ecrRepo: { repoName: 'app', accountId: '12' } },
  { ecrRepo: { repoName: 'app', awsRegion: 'nowhere' } },
  { ecrRepo: { repoName: 'app', registryAlias: 'A' } },
  { ecrRepo: { repoName: 'app', unknown: 1 } },
  { repo: 'r/app', unknownOption: true },
  { repo: 'r/app', dryRun: 'yes' },
  { repo: 'r/app', outputFile: '' },
];

describe('the quick check never says yes where zod says no', () => {
  it.each(VALID.map((input) => [input]))('valid, and said so without zod: %j', (input) => {
    const zodAccepts = pushArgsShape.safeParse(input).success;
    expect(zodAccepts).toBe(true);
    // An object zod would reshape (an unlisted key) is the one case left to zod.
    expect(conformsToSchema(pushArgsJsonSchema, input)).toBe(true);
  });

  it('an open object with an unlisted key: valid for zod, which drops the key, so left to zod', () => {
    const input = { image: { repo: 'app', tags: ['1'], extra: 1 } };
    expect(pushArgsShape.safeParse(input)).toMatchObject({
      success: true,
      data: { image: { repo: 'app', tags: ['1'] } },
    });
    expect(conformsToSchema(pushArgsJsonSchema, input)).toBe(false);
  });

  it.each(INVALID.map((input) => [input]))('not valid: %j', (input) => {
    expect(pushArgsShape.safeParse(input).success).toBe(false);
    expect(conformsToSchema(pushArgsJsonSchema, input)).toBe(false);
  });
});
