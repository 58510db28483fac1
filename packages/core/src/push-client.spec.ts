import { Readable } from 'node:stream';
import type Dockerode from 'dockerode';
import type { EcrToken, EcrTokenProvider } from './ecr/aws-clients';
import { createPushClient } from './push-client';
import { defaultRedactor, redact } from './redact';

const ECR_REPO = { repoName: 'team/service/api', accountId: '123456789012', awsRegion: 'eu-west-1' };
const env = { HOME: '/nonexistent', DOCKER_CONFIG: '/nonexistent' };

/** An engine at the dockerode level where every image exists and every push succeeds, recording the passwords sent. */
function fakeEngine() {
  const passwords: string[] = [];
  const docker = {
    ping: async () => 'OK',
    getImage: () => ({
      inspect: async () => ({ Id: 'sha256:' + 'a'.repeat(64), RepoTags: [] }),
      push: async ({ tag, authconfig }: { tag: string; authconfig: { password?: string } }) => {
        passwords.push(authconfig.password ?? '');
        const aux = { aux: { Tag: tag, Digest: 'sha256:' + 'd'.repeat(64), Size: 1 } };
        return Readable.from([JSON.stringify(aux) + '\n']);
      },
    }),
  } as unknown as Dockerode;
  return { docker, passwords };
}

/** ECR's GetAuthorizationToken, counted: each call hands out a new token. */
function countingTokens(): EcrTokenProvider & { calls: number } {
  const tokens = {
    calls: 0,
    getToken: async (): Promise<EcrToken> => {
      tokens.calls++;
      return { username: 'AWS', password: `ecr-token-${tokens.calls}`, expiresAt: new Date(Date.now() + 3600_000) };
    },
  };
  return tokens;
}

describe('createPushClient: what a client keeps between pushes', () => {
  it('two pushes on one client use one ECR token', async () => {
    const engine = fakeEngine();
    const tokens = countingTokens();
    const client = createPushClient({ docker: engine.docker, env, ecrTokens: tokens });
    await client.push({ ecrRepo: ECR_REPO, tags: ['1'] });
    await client.push({ ecrRepo: ECR_REPO, tags: ['2'] });
    expect(tokens.calls).toBe(1);
    expect(engine.passwords).toEqual(['ecr-token-1', 'ecr-token-1']);
  });

  it('two clients do not share tokens', async () => {
    const engine = fakeEngine();
    const tokens = countingTokens();
    await createPushClient({ docker: engine.docker, env, ecrTokens: tokens }).push({ ecrRepo: ECR_REPO, tags: ['1'] });
    await createPushClient({ docker: engine.docker, env, ecrTokens: tokens }).push({ ecrRepo: ECR_REPO, tags: ['1'] });
    expect(tokens.calls).toBe(2);
    expect(engine.passwords).toEqual(['ecr-token-1', 'ecr-token-2']);
  });

  it('a failed token request is not kept: the next push on the client asks again', async () => {
    const engine = fakeEngine();
    let calls = 0;
    const tokens: EcrTokenProvider = {
      getToken: async () => {
        calls++;
        if (calls === 1) throw new Error('ECR did not answer');
        return { username: 'AWS', password: 'ecr-token-ok', expiresAt: new Date(Date.now() + 3600_000) };
      },
    };
    const client = createPushClient({ docker: engine.docker, env, ecrTokens: tokens });
    await expect(client.push({ ecrRepo: ECR_REPO, tags: ['1'], retries: 0 })).rejects.toThrow();
    await client.push({ ecrRepo: ECR_REPO, tags: ['1'] });
    expect(calls).toBe(2);
    expect(engine.passwords).toEqual(['ecr-token-ok']);
  });

  it("keeps the push's secrets in the client's redactor, not in a process-wide one", async () => {
    const password = 'client-owned-password-7';
    const client = createPushClient({ docker: fakeEngine().docker, env });
    await client.push({ repo: 'localhost:5000/app', tags: ['1'], auth: { username: 'ci', password } });
    expect(redact(`sent ${password}`)).toBe('sent ***');
    expect(defaultRedactor.redact(`sent ${password}`)).toBe(`sent ${password}`);
  });
});
