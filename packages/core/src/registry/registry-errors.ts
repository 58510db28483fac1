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
