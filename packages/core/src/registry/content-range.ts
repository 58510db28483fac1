/** `Content-Range` of a chunk of an upload (the Distribution API's form: inclusive, no unit). */
export function chunkContentRange(offset: number, length: number): string {
  return `${offset}-${offset + length - 1}`;
}

/**
 * How many bytes an upload holds, from the `Range` header of `GET <upload URL>` (or of a PATCH's
 * answer): `0-N` means N+1 bytes. `0-0` can mean 0 or 1 byte (registries write it for both), so it
 * reads as 0 and the caller resends from the start of what it holds. No header means nothing yet.
 */
export function uploadedBytes(range: string | string[] | undefined): number {
  const value = Array.isArray(range) ? range[0] : range;
  if (!value) return 0;
  const match = /^(?:bytes=)?(\d+)-(\d+)$/.exec(value.trim());
  if (!match) throw new Error(`the registry reported an upload range "${value}" that is not START-END`);
  const end = Number(match[2]);
  return end === 0 ? 0 : end + 1;
}
