import { ImageSourceError, LayerDigestMismatchError } from './image-source-error';
import type { ImageSource, LayerVisitor, UncompressedImage } from './image-source';
import { TarFileTree, type FileTree } from './file-tree';
import { parseImageConfig, sha256Digest } from './layer-digest';

interface ArchiveManifestEntry {
  Config: string;
  RepoTags?: string[] | null;
  Layers: string[];
}

/**
 * `docker-archive:PATH[:REF]`: a `docker save` tarball. REF picks one image of an archive that
 * holds several (by one of its RepoTags). Layers are read straight from the file, several at once.
 */
export class DockerArchiveSource implements ImageSource {
  constructor(
    private readonly file: string,
    private readonly reference?: string,
  ) {}

  get name(): string {
    return `docker-archive:${this.file}${this.reference ? `:${this.reference}` : ''}`;
  }

  async open(): Promise<UncompressedImage> {
    let tree: FileTree;
    try {
      tree = await TarFileTree.open(this.file);
    } catch (cause) {
      throw new ImageSourceError(this.name, `${(cause as Error).message}. Give a file made by \`docker save\`.`, {
        cause,
      });
    }
    return openDockerArchive(tree, this.name, this.reference);
  }
}

/** Reads `manifest.json` and the config of a `docker save` archive. */
export async function openDockerArchive(tree: FileTree, name: string, reference?: string): Promise<UncompressedImage> {
  const fail = (detail: string, cause?: unknown): never => {
    throw new ImageSourceError(name, detail, { cause });
  };
  if (!(await tree.has('manifest.json'))) fail('it has no manifest.json, so it is not a `docker save` archive');
  let entries: ArchiveManifestEntry[] = [];
  try {
    entries = JSON.parse((await tree.read('manifest.json')).toString('utf8')) as ArchiveManifestEntry[];
  } catch (cause) {
    fail('its manifest.json is not JSON', cause);
  }
  if (!Array.isArray(entries) || entries.length === 0) fail('its manifest.json lists no image');
  let entry = entries[0] as ArchiveManifestEntry;
  if (reference) {
    const found = entries.find((e) => (e.RepoTags ?? []).includes(reference));
    if (!found) {
      const known = entries.flatMap((e) => e.RepoTags ?? []);
      fail(`it holds no image tagged "${reference}" (it holds: ${known.join(', ') || 'untagged images only'})`);
    }
    entry = found as ArchiveManifestEntry;
  } else if (entries.length > 1) {
    fail(`it holds ${entries.length} images: name one as docker-archive:PATH:REPO:TAG`);
  }
  if (typeof entry.Config !== 'string' || !Array.isArray(entry.Layers))
    fail('its manifest.json entry has no Config or Layers');
  const config = await tree
    .read(entry.Config)
    .catch((cause: unknown) => fail(`its config ${entry.Config} is missing`, cause));
  let diffIds: string[] = [];
  try {
    diffIds = parseImageConfig(config, name).diffIds;
  } catch (cause) {
    fail((cause as Error).message, cause);
  }
  if (diffIds.length !== entry.Layers.length) {
    fail(`its config lists ${diffIds.length} layers but manifest.json ${entry.Layers.length}`);
  }
  const layers = entry.Layers;
  return {
    kind: 'uncompressed',
    location: name,
    configDigest: sha256Digest(config),
    diffIds,
    config,
    readLayers: async (wanted, visit: LayerVisitor, concurrency) => {
      const todo = new Map<string, string>();
      layers.forEach((file, i) => {
        const diffId = diffIds[i] as string;
        if (wanted.has(diffId) && !todo.has(diffId)) todo.set(diffId, file);
      });
      const queue = [...todo.entries()];
      let failed = false;
      const worker = async () => {
        // After a failure no new layer is started: the push is over.
        for (let next = queue.shift(); next && !failed; next = queue.shift()) {
          const [expected, file] = next;
          try {
            const actual = await visit({
              expectedDiffId: expected,
              size: await tree.size(file),
              stream: tree.open(file),
              name: file,
            });
            // Undefined: the pusher did not push it (its upload was dropped) and asks for it again.
            if (actual !== undefined && actual !== expected) throw new LayerDigestMismatchError(name, expected, actual);
          } catch (error) {
            failed = true;
            throw error;
          }
        }
      };
      await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, queue.length)) }, worker));
      return config;
    },
  };
}
