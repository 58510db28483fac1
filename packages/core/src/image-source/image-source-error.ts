import { DockpushError } from '../errors';

/** An image source could not be read, or does not hold a valid image. Nothing was pushed. */
export class ImageSourceError extends DockpushError {
  readonly code = 'IMAGE_SOURCE';
  constructor(
    readonly source: string,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(`Cannot read the image ${source}: ${detail}`, options);
  }
}

/** A layer's content does not match the diffID its config records: the push stops before any manifest. */
export class LayerDigestMismatchError extends DockpushError {
  readonly code = 'LAYER_DIGEST_MISMATCH';
  constructor(
    readonly source: string,
    readonly expected: string,
    readonly actual: string,
  ) {
    super(
      `The image ${source} is corrupt: a layer's content hashes to ${actual} but its config says ${expected}. ` +
        'No manifest was pushed. Rebuild or re-export the image.',
    );
  }
}
