import type Dockerode from 'dockerode';
import type { WaitLimits } from '../deadline';
import { ImageNotFoundError } from '../errors';
import { engineCall } from './docker-client';

/**
 * `GET /images/{ref}/json` under the deadline: the one place an engine's 404 for an image
 * becomes `ImageNotFoundError`, and no answer `DockerUnavailableError`.
 */
export async function inspectImage(
  docker: Dockerode,
  reference: string,
  env: NodeJS.ProcessEnv | undefined,
  limits: WaitLimits,
  hint = 'Build it or pull it first (docker images lists what is there).',
): Promise<Dockerode.ImageInspectInfo> {
  try {
    // dockerode's inspect takes no AbortSignal; the client's own socket timeout ends it.
    return await engineCall(env, limits, `looking up the image "${reference}"`, () =>
      docker.getImage(reference).inspect(),
    );
  } catch (error) {
    if ((error as { statusCode?: number }).statusCode === 404) {
      throw new ImageNotFoundError(reference, hint, { cause: error });
    }
    throw error;
  }
}
