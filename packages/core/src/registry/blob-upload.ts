import { backoffDelay, sleep } from '../engine/backoff';
import { chunkContentRange, uploadedBytes } from './content-range';
import { bodyFrom, bodyLength, type RequestBody } from './http-client';
import type { RegistryClient } from './registry-client';
import { RegistryRequestError, UploadLostError } from './registry-errors';

/** Blob operations on one repository: existence, cross-repository mount, and uploads. */
export class RepositoryBlobs {
  constructor(
    readonly client: RegistryClient,
    /** The repository's path inside its registry: `team/app`. */
    readonly repository: string,
    private readonly retries: number,
  ) {}

  /** The blob's size when the repository has it, else undefined. */
  async exists(digest: string): Promise<number | undefined> {
    const response = await this.client.request({
      method: 'HEAD',
      target: `/v2/${this.repository}/blobs/${digest}`,
      ok: [200, 404],
      what: `check of blob ${digest}`,
    });
    if (response.status === 404) return undefined;
    const length = Number(response.headers['content-length']);
    return Number.isFinite(length) ? length : 0;
  }

  /**
   * Asks the registry to link a blob from another of its repositories. `mounted` when it did;
   * otherwise the registry may have opened an upload instead, returned for use.
   */
  async mount(
    digest: string,
    from: string,
  ): Promise<{ mounted: true } | { mounted: false; upload?: BlobUploadSession }> {
    const query = new URLSearchParams({ mount: digest, from });
    const response = await this.client.request({
      method: 'POST',
      target: `/v2/${this.repository}/blobs/uploads/?${query}`,
      ok: [201, 202],
      what: `mount of blob ${digest} from ${from}`,
    });
    if (response.status === 201) return { mounted: true };
    const location = response.headers.location;
    return location
      ? { mounted: false, upload: new BlobUploadSession(this, new URL(location, response.url), this.retries) }
      : { mounted: false };
  }

  /** Opens an upload session (`POST .../blobs/uploads/`). */
  async startUpload(): Promise<BlobUploadSession> {
    const response = await this.client.request({
      method: 'POST',
      target: `/v2/${this.repository}/blobs/uploads/`,
      ok: [202],
      what: 'start of a blob upload',
    });
    const location = response.headers.location;
    if (!location) {
      throw new RegistryRequestError(
        this.client.registry,
        'POST',
        `/v2/${this.repository}/blobs/uploads/`,
        202,
        'no Location in the answer',
        false,
      );
    }
    return new BlobUploadSession(this, new URL(location, response.url), this.retries);
  }
}

/**
 * One blob upload, sent in chunks (`PATCH` with `Content-Range`) and closed with `PUT ?digest=`.
 * A chunk cut off midway resumes from the offset the registry reports (`GET` on the upload's
 * URL), so only the missing bytes are sent again. Only the chunk in flight is held in memory, so
 * an upload the registry drops after its first chunk fails with `UploadLostError`.
 */
export class BlobUploadSession {
  /** Bytes the registry has acknowledged. */
  offset = 0;

  constructor(
    private readonly blobs: RepositoryBlobs,
    private location: URL,
    private readonly retries: number,
  ) {}

  private moveTo(location: string | string[] | undefined, base: URL): void {
    const value = Array.isArray(location) ? location[0] : location;
    if (value) this.location = new URL(value, base);
  }

  /** How many bytes the registry holds for this upload. */
  async status(): Promise<number> {
    const response = await this.blobs.client.request({
      method: 'GET',
      target: this.location,
      ok: [204],
      what: 'status of a blob upload',
    });
    this.moveTo(response.headers.location, response.url);
    return uploadedBytes(response.headers.range);
  }

  /** Appends a chunk, resuming after a cut from where the registry says it stopped. */
  async write(chunk: RequestBody, what: string): Promise<void> {
    const length = bodyLength(chunk);
    if (length === 0) return;
    const chunkStart = this.offset;
    let sent = 0;
    let refusedAtZero = false;
    for (let attempt = 1; ; attempt++) {
      const body = bodyFrom(chunk, sent);
      const bodyBytes = length - sent;
      try {
        const response = await this.blobs.client.request({
          method: 'PATCH',
          target: this.location,
          headers: {
            'Content-Type': 'application/octet-stream',
            'Content-Range': chunkContentRange(this.offset, bodyBytes),
          },
          body,
          ok: [202],
          retry: false,
          what,
        });
        this.moveTo(response.headers.location, response.url);
        this.offset += bodyBytes;
        return;
      } catch (error) {
        const resumable =
          error instanceof RegistryRequestError &&
          (error.status === undefined || error.status === 416 || error.transient);
        if (!resumable || attempt > this.retries) throw error;
        if (error.status === 416 && this.offset === 0) refusedAtZero = true;
        await sleep(backoffDelay(attempt, 200, 5000), this.blobs.client.signal);
        let held: number;
        try {
          held = await this.status();
        } catch (lost) {
          // The registry dropped the upload (registry:2 does after a PATCH cut mid-body). With
          // this chunk the first, the whole blob so far is at hand: start it again in a new upload.
          if (!(lost instanceof RegistryRequestError && lost.status === 404)) throw lost;
          // Later, the bytes before this chunk are gone: the caller may read the blob again.
          if (chunkStart > 0) {
            throw new UploadLostError(this.blobs.client.registry, this.location.pathname, what, chunkStart, false, {
              cause: lost,
            });
          }
          this.location = (await this.blobs.startUpload()).location;
          refusedAtZero = false;
          held = 0;
        }
        // `0-0` is 0 or 1 byte; after a refusal at 0 it was 1.
        if (held === 0 && refusedAtZero) held = 1;
        if (held < chunkStart || held > chunkStart + length) {
          throw new RegistryRequestError(
            this.blobs.client.registry,
            'PATCH',
            this.location.pathname,
            undefined,
            `${what}: the registry holds ${held} bytes of the upload, but ${chunkStart} to ${chunkStart + length} ` +
              'were expected, so it cannot be resumed. Push again.',
            false,
            { cause: error },
          );
        }
        sent = held - chunkStart;
        this.offset = held;
        if (sent === length) return;
      }
    }
  }

  /**
   * Closes the upload with the blob's digest (and its last bytes, if any). With nothing sent
   * before, `last` is the whole blob (a monolithic upload): after a transient failure it is sent
   * again in a new upload, since the registry may have dropped this one.
   */
  async finish(digest: string, last: RequestBody | undefined, what: string): Promise<void> {
    const body = last ?? Buffer.alloc(0);
    const bytes = bodyLength(body);
    const whole = bytes > 0 && this.offset === 0;
    for (let attempt = 1; ; attempt++) {
      const url = new URL(this.location);
      url.searchParams.set('digest', digest);
      try {
        await this.blobs.client.request({
          method: 'PUT',
          target: url,
          headers: { 'Content-Type': 'application/octet-stream' },
          body,
          ok: [201, 204],
          retry: bytes === 0,
          what,
        });
        return;
      } catch (error) {
        // A PUT whose answer was lost may have landed: the blob being there is success.
        if ((await this.blobs.exists(digest).catch(() => undefined)) !== undefined) return;
        const transient = error instanceof RegistryRequestError && (error.status === undefined || error.transient);
        if (!whole || !transient || attempt > this.retries) throw error;
        await sleep(backoffDelay(attempt, 200, 5000), this.blobs.client.signal);
        this.location = (await this.blobs.startUpload()).location;
      }
    }
  }

  /** Abandons the upload; errors are ignored (the registry expires it anyway). */
  async cancel(): Promise<void> {
    await this.blobs.client
      .request({
        method: 'DELETE',
        target: this.location,
        ok: [204, 404],
        retry: false,
        what: 'cancel of a blob upload',
      })
      .catch(() => undefined);
  }
}
