import { formatDuration } from '../deadline';
import { DockpushError } from '../errors';

/** A registry request failed: which request, where, and what the registry said. */
export class RegistryRequestError extends DockpushError {
  readonly code = 'REGISTRY_REQUEST';
  constructor(
    readonly registry: string,
    readonly method: string,
    readonly path: string,
    /** HTTP status, or undefined when no answer came (network error, timeout). */
    readonly status: number | undefined,
    detail: string,
    /** Whether trying again may help (network errors, 5xx, 429). */
    readonly transient: boolean,
    options?: { cause?: unknown },
  ) {
    super(`${method} ${path} on ${registry} failed: ${detail}`, options);
  }
}

/**
 * The registry engine's bound on a whole push ran out: nothing more is sent, and each tag not in
 * the registry by then fails with this (the engine that called adds what the user can do).
 */
export class PushTimeLimitError extends RegistryRequestError {
  constructor(registry: string, path: string, limitMs: number, options?: { cause?: unknown }) {
    super(
      registry,
      'PUSH',
      `/v2/${path}`,
      undefined,
      `the push did not finish within ${formatDuration(limitMs)}, the registry engine's bound on a whole push (each request has its own \`timeout\`)`,
      true,
      options,
    );
  }
}

/** dockpush refused a request that would have sent credentials where they do not belong. */
export class CredentialPolicyError extends DockpushError {
  readonly code = 'CREDENTIAL_POLICY';
  constructor(
    readonly registry: string,
    detail: string,
  ) {
    super(`Refusing to send credentials for ${registry}: ${detail}`);
  }
}

/**
 * The registry dropped a blob upload after some of it had been sent (registry:2 does when a
 * `PATCH` is cut mid-body: the upload's status is then 404). Only sending the blob again from its
 * start can recover, which takes reading it again from the source.
 */
export class UploadLostError extends RegistryRequestError {
  constructor(
    registry: string,
    path: string,
    /** The upload, for messages: `upload of layer 0123456789ab`. */
    readonly what: string,
    /** Bytes sent before the upload was dropped. */
    readonly sentBytes: number,
    /** Whether this was the blob's second upload, after it had been read again from the source. */
    readonly reread: boolean,
    options?: { cause?: unknown },
  ) {
    super(
      registry,
      'PATCH',
      path,
      404,
      reread
        ? `${what}: the registry dropped the upload after ${sentBytes} bytes had been sent, and it had dropped ` +
            'the first upload of this blob too (dockpush read the blob again from the source once). Push again; ' +
            'if it keeps happening, check the registry and any proxy in between for requests cut midway.'
        : `${what}: the registry dropped the upload after ${sentBytes} bytes had been sent, and dockpush no ` +
            'longer holds them to start it again. Push again.',
      false,
      options,
    );
  }
}
