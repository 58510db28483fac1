import { defaultRedactor, redact, Redactor } from '../redact';
import { CredentialSession } from './credential-session';
import type { AuthProvider, RegistryCredentials } from './registry-auth';

const ECR = '123456789012.dkr.ecr.us-east-1.amazonaws.com';

/** A provider of tokens: names its source without a fetch, hands out a new token per fetch. */
function tokens(): AuthProvider & { fetched: number; invalidated: number } {
  return {
    fetched: 0,
    invalidated: 0,
    tokenSource: (host) => (host === ECR ? 'ecr' : undefined),
    async resolve(host): Promise<RegistryCredentials | undefined> {
      if (host !== ECR) return undefined;
      this.fetched++;
      return {
        source: 'ecr',
        authconfig: { username: 'AWS', password: `token-number-${this.fetched}`, serveraddress: host },
      };
    },
    invalidate() {
      this.invalidated++;
    },
  };
}

/** A provider read from a file or a helper: counts how often it is asked. */
function helper(): AuthProvider & { asked: number } {
  return {
    asked: 0,
    async resolve(host): Promise<RegistryCredentials | undefined> {
      this.asked++;
      return {
        source: 'credential-helper',
        authconfig: { username: 'u', password: 'helper-secret-9', serveraddress: host },
      };
    },
  };
}

describe('CredentialSession', () => {
  it('names a token source for the plan without fetching a token', async () => {
    const ecr = tokens();
    const session = new CredentialSession([ecr, helper()]);
    expect(await session.sourceFor(ECR)).toBe('ecr');
    expect(ecr.fetched).toBe(0);
  });

  it('asks a credential helper once for the plan and the push together', async () => {
    const h = helper();
    const session = new CredentialSession([tokens(), h]);
    expect(await session.sourceFor('localhost:5000')).toBe('credential-helper');
    expect((await session.credentialsFor('localhost:5000')).authconfig).toMatchObject({ password: 'helper-secret-9' });
    expect(h.asked).toBe(1);
  });

  it('is anonymous ({}) when no provider answers', async () => {
    const session = new CredentialSession([]);
    expect(await session.sourceFor('ghcr.io')).toBe('anonymous');
    expect(await session.credentialsFor('ghcr.io')).toEqual({ source: 'anonymous', authconfig: {} });
  });

  it('renews refused tokens once, and only once', async () => {
    const ecr = tokens();
    const session = new CredentialSession([ecr]);
    expect((await session.credentialsFor(ECR)).authconfig).toMatchObject({ password: 'token-number-1' });
    expect(await session.refused(ECR)).toBe(true);
    expect((await session.credentialsFor(ECR)).authconfig).toMatchObject({ password: 'token-number-2' });
    expect(await session.refused(ECR)).toBe(false);
    expect(ecr.invalidated).toBe(1);
  });

  it('does not retry credentials that cannot be renewed', async () => {
    const session = new CredentialSession([helper()]);
    await session.credentialsFor('localhost:5000');
    expect(await session.refused('localhost:5000')).toBe(false);
  });

  it('registers what it hands out for redaction', async () => {
    const session = new CredentialSession([tokens()]);
    await session.credentialsFor(ECR);
    expect(redact('sent token-number-1')).toBe('sent ***');
  });

  it("adds what it hands out to the redactor it is given, not the process's", async () => {
    const redactor = new Redactor();
    const password = 'only-this-session-knows-it';
    const provider: AuthProvider = {
      resolve: async (host) => ({
        source: 'credential-helper',
        authconfig: { username: 'u', password, serveraddress: host },
      }),
    };
    await new CredentialSession([provider], {}, redactor).credentialsFor('registry.example.com');
    expect(redactor.redact(`sent ${password}`)).toBe('sent ***');
    expect(defaultRedactor.redact(`sent ${password}`)).toBe(`sent ${password}`);
  });
});
