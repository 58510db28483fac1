/** What both engines advise, in the same words, when a push cannot start or is refused. */

/** The advice when no source is given and a tag of the push has no local image `<repo>:<tag>`. */
export function missingLocalTagAdvice(reference: string): string {
  return `Nothing was pushed. Tag the image first (docker tag <image> ${reference}), or give source (--source) to have dockpush tag it.`;
}

/** The advice when the registry refuses the credentials read from `DOCKER_AUTH_CONFIG`. */
export const DOCKER_AUTH_CONFIG_REFUSED =
  'The registry refused the credentials in DOCKER_AUTH_CONFIG: fix them, or unset DOCKER_AUTH_CONFIG to use the Docker config.';

/** The advice when the registry refuses the credentials given in `auth`. */
export const EXPLICIT_CREDENTIALS_REFUSED =
  'The registry refused the credentials given in auth (--username/--password-stdin): check the username and password (or identity token).';
