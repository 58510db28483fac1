import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type Dockerode from 'dockerode';
import { DockerUnavailableError } from '../errors';

/**
 * Where the engine is, as docker-modem would read it from the process's environment, read
 * from `env` instead. Every field is set (docker-modem lays what it is given over what it
 * reads from `process.env`), so nothing of the process's `DOCKER_*` leaks in.
 */
export function dockerConnection(env: NodeJS.ProcessEnv): Dockerode.DockerOptions {
  const none: Dockerode.DockerOptions = {
    socketPath: undefined,
    host: undefined,
    port: undefined,
    protocol: undefined,
    ca: undefined,
    cert: undefined,
    key: undefined,
  };
  const dockerHost = env.DOCKER_HOST;
  if (!dockerHost) return { ...none, socketPath: DEFAULT_SOCKET };
  if (dockerHost.startsWith('unix://')) return { ...none, socketPath: dockerHost.slice(7) || DEFAULT_SOCKET };
  if (dockerHost.startsWith('npipe://'))
    return { ...none, socketPath: dockerHost.slice(8) || '//./pipe/docker_engine' };
  let url: URL;
  try {
    url = new URL(dockerHost.includes('//') ? dockerHost : `tcp://${dockerHost}`);
  } catch {
    // Not quoted: a URL may carry a password.
    throw new DockerUnavailableError(
      'DOCKER_HOST',
      'it is not a URL; set it like tcp://localhost:2376 or unix:///var/run/docker.sock',
    );
  }
  const ssh = url.protocol === 'ssh:';
  const tls = env.DOCKER_TLS_VERIFY === '1' || url.port === '2376';
  const certs = env.DOCKER_CERT_PATH;
  return {
    ...none,
    host: url.hostname,
    port: url.port,
    protocol: tls ? 'https' : ssh ? 'ssh' : 'http',
    ...(ssh ? { username: url.username, sshOptions: { agent: env.SSH_AUTH_SOCK } } : {}),
    ...(certs
      ? {
          ca: readFileSync(join(certs, 'ca.pem')),
          cert: readFileSync(join(certs, 'cert.pem')),
          key: readFileSync(join(certs, 'key.pem')),
        }
      : {}),
  };
}

const DEFAULT_SOCKET = '/var/run/docker.sock';
