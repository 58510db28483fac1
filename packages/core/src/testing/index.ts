/**
 * Fixtures shared by the unit tests of every package (`@dockpush/core/testing` in specs only).
 * Kept out of the build and of the published package.
 */
import type Dockerode from 'dockerode';
import { sha256Digest } from '../image-source/layer-digest';
import type { PushPlan } from '../plan/resolve-push-plan';

export {
  FAKE_ENGINE_IMAGE,
  FAKE_PUSH_PROGRESS,
  startFakeDockerEngine,
  type FakeDockerEngine,
  type FakeEngineRequest,
} from './fake-docker-engine';
export { selfSignedCertificate } from './self-signed-certificate';

/** The dry-run plan for one tag `1` of localhost:5000/app, pushed anonymously through the Docker engine. */
export const onePushPlan: PushPlan = {
  repo: 'localhost:5000/app',
  tags: ['1'],
  uri: { '1': 'localhost:5000/app:1' },
  registry: 'localhost:5000',
  source: null,
  credentials: 'anonymous',
  engine: 'docker',
};

/** An engine that answers pings and knows no image. */
export const emptyEngine = {
  ping: async () => 'OK',
  getImage: () => ({
    inspect: async () => {
      throw Object.assign(new Error('no such image'), { statusCode: 404 });
    },
  }),
} as unknown as Dockerode;

/** The OCI descriptor of `bytes`: its media type, digest and size. */
export function descriptorOf(mediaType: string, bytes: Buffer): { mediaType: string; digest: string; size: number } {
  return { mediaType, digest: sha256Digest(bytes), size: bytes.length };
}

const emptyConfig = Buffer.from(JSON.stringify({ rootfs: { type: 'layers', diff_ids: [] } }));

/** An OCI image with no layers: its config and its manifest, as bytes. */
export const emptyOciImage = {
  config: emptyConfig,
  manifest: Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: {
        mediaType: 'application/vnd.oci.image.config.v1+json',
        digest: sha256Digest(emptyConfig),
        size: emptyConfig.length,
      },
      layers: [],
    }),
  ),
};

/** A request body's bytes as one buffer (a chunk is sent as several). */
export function bodyBytes(body: Buffer | readonly Buffer[] | undefined): Buffer {
  if (body === undefined) return Buffer.alloc(0);
  return Buffer.isBuffer(body) ? body : Buffer.concat(body);
}
