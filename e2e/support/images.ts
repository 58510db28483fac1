import { createCipheriv, createHash, randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import type Dockerode from 'dockerode';

export interface TestImageOptions {
  /** Layers, each a COPY of one file (default 2). */
  layers?: number;
  /** Size of each layer's file (default 128 KiB). */
  bytesPerLayer?: number;
  /** Same seed, same layer contents (and digests); default: unique per call. */
  seed?: string;
}

/**
 * Builds `FROM scratch` + one COPY per layer of incompressible data and tags it `ref`.
 * Pulls nothing. Throws on any error event of the build stream.
 */
export async function createTestImage(
  docker: Dockerode,
  ref: string,
  opts: TestImageOptions = {},
): Promise<{ id: string }> {
  const { layers = 2, bytesPerLayer = 128 * 1024, seed = randomUUID() } = opts;
  const files: TarEntry[] = [];
  const dockerfile = ['FROM scratch'];
  for (let i = 0; i < layers; i++) {
    files.push({ name: `layer-${i}.bin`, data: pseudoRandomBytes(seed, i, bytesPerLayer) });
    dockerfile.push(`COPY layer-${i}.bin /layer-${i}.bin`);
  }
  files.push({ name: 'Dockerfile', data: Buffer.from(`${dockerfile.join('\n')}\n`) });

  // The legacy builder ("1"): BuildKit is not installed on the build machines.
  const stream = await docker.buildImage(Readable.from([tar(files)]), {
    t: ref,
    rm: true,
    forcerm: true,
    version: '1',
  });
  const events = await new Promise<BuildEvent[]>((resolve, reject) =>
    docker.modem.followProgress(stream, (err: Error | null, result: BuildEvent[]) =>
      err ? reject(err) : resolve(result),
    ),
  );
  // followProgress resolves even when the stream reports an error: look for one.
  const failure = events.find((event) => event.error || event.errorDetail);
  if (failure) {
    throw new Error(`building test image ${ref} failed: ${failure.errorDetail?.message ?? failure.error}`);
  }
  const { Id } = await docker.getImage(ref).inspect();
  return { id: Id };
}

/** Removes the reference `ref` (the image too, when it was its last tag); a missing one is fine. */
export async function removeImage(docker: Dockerode, ref: string): Promise<void> {
  try {
    await docker.getImage(ref).remove({ force: true });
  } catch (error) {
    if ((error as { statusCode?: number }).statusCode !== 404) throw error;
  }
}

interface BuildEvent {
  stream?: string;
  error?: string;
  errorDetail?: { message?: string };
}

/** AES-256-CTR keystream keyed by seed and layer: fast, deterministic, incompressible. */
function pseudoRandomBytes(seed: string, layer: number, size: number): Buffer {
  const key = createHash('sha256').update(`${seed}\0${layer}`).digest();
  const cipher = createCipheriv('aes-256-ctr', key, Buffer.alloc(16));
  return Buffer.concat([cipher.update(Buffer.alloc(size)), cipher.final()]);
}

interface TarEntry {
  name: string;
  data: Buffer;
}

/**
 * A minimal ustar archive of regular files. mtime is fixed at 0, since COPY keeps it and
 * the layer's digest must depend on the seed alone.
 */
function tar(entries: TarEntry[]): Buffer {
  const blocks: Buffer[] = [];
  for (const { name, data } of entries) {
    const header = Buffer.alloc(512);
    const field = (offset: number, length: number, value: string): void => {
      header.write(value, offset, length, 'ascii');
    };
    const octal = (offset: number, length: number, value: number): void =>
      field(offset, length, `${value.toString(8).padStart(length - 1, '0')}\0`);
    field(0, 100, name);
    octal(100, 8, 0o644);
    octal(108, 8, 0);
    octal(116, 8, 0);
    octal(124, 12, data.length);
    octal(136, 12, 0);
    field(148, 8, ' '.repeat(8));
    field(156, 1, '0');
    field(257, 8, 'ustar\u000000');
    let checksum = 0;
    for (const byte of header) checksum += byte;
    field(148, 8, `${checksum.toString(8).padStart(6, '0')}\0 `);
    blocks.push(header, data, Buffer.alloc((512 - (data.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}
