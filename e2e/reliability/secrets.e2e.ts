import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Dockerode from 'dockerode';
import {
  ALL_ADAPTERS,
  type Adapter,
  allAdaptersProject,
  cleanUserEnv,
  runAdapter,
} from '../support/all-adapters-project';
import { EcrE2eEnvironment, ecrE2eEnabled } from '../support/ecr-environment';
import { loadE2eEnv } from '../support/env';
import { createTestImage, removeImage } from '../support/images';
import { listTags } from '../support/registry-api';
import { recordReliability } from '../support/reliability-record';

/**
 * Known secrets go through every adapter with DEBUG=dockpush*, in runs that succeed
 * and runs that fail; all output, result files and debug logs are scanned for them
 * (as written, base64, and base64 of user:secret, as Docker configs hold them).
 */
const env = loadE2eEnv();
const docker = new Dockerode();
const unique = `${process.pid}-${Date.now().toString(36)}`;
const source = `dockpush-e2e-secrets:${unique}`;
const wrongPassword = `known-wrong-password-${unique}`;
const identityToken = `known-identity-token-${unique}`;

const b64 = (s: string) => Buffer.from(s).toString('base64');
function forms(secret: string, user?: string): string[] {
  return [secret, b64(secret), ...(user ? [b64(`${user}:${secret}`)] : [])];
}

function configEnv(config: object): NodeJS.ProcessEnv {
  const dir = mkdtempSync(path.join(tmpdir(), 'dockpush-secret-config-'));
  writeFileSync(path.join(dir, 'config.json'), JSON.stringify(config));
  return cleanUserEnv({ DOCKER_CONFIG: dir, DEBUG: 'dockpush*' });
}

interface Scenario {
  name: string;
  succeeds: boolean;
  secrets: string[];
  env: () => NodeJS.ProcessEnv;
  /** Arguments beyond repo/source/outputFile, for the non-CLI adapters. */
  extra?: Record<string, unknown>;
  /** CLI words beyond --repo/--source/--output-file, and its stdin. */
  cliExtra?: string[];
  stdin?: string;
}

const scenarios: Scenario[] = [
  {
    name: 'the right password, from the Docker config',
    succeeds: true,
    secrets: forms(env.auth.password, env.auth.username),
    env: () => configEnv({ auths: { [env.auth.host]: { auth: b64(`${env.auth.username}:${env.auth.password}`) } } }),
  },
  {
    name: 'a wrong password, given explicitly',
    succeeds: false,
    secrets: forms(wrongPassword, env.auth.username),
    env: () => cleanUserEnv({ DEBUG: 'dockpush*' }),
    extra: { auth: { username: env.auth.username, password: wrongPassword } },
    cliExtra: ['--username', env.auth.username, '--password-stdin'],
    stdin: `${wrongPassword}\n`,
  },
  {
    name: 'an identity token, from DOCKER_AUTH_CONFIG',
    succeeds: false,
    secrets: forms(identityToken),
    env: () => ({
      ...cleanUserEnv({ DEBUG: 'dockpush*' }),
      DOCKER_AUTH_CONFIG: JSON.stringify({ auths: { [env.auth.host]: { identitytoken: identityToken } } }),
    }),
  },
];

/**
 * A known ECR token (the stand-in's), where the ECR end-to-end set-up may run (CI): the
 * real SDK fetches it from the loopback stand-in, and the engine logs in with it.
 */
const ECR_ACCOUNT = '777788889999';
const ecrHost = `${ECR_ACCOUNT}.dkr.ecr.eu-west-3.amazonaws.com`;
let ecr: EcrE2eEnvironment | undefined;
let ecrAwsEnv: NodeJS.ProcessEnv = {};
const ecrScenario: Scenario | undefined = ecrE2eEnabled()
  ? {
      name: 'an ECR token from the AWS SDK',
      succeeds: true,
      secrets: [],
      env: () => cleanUserEnv({ DEBUG: 'dockpush*', ...ecrAwsEnv }),
      cliExtra: ['--ecr-account-id', ECR_ACCOUNT, '--ecr-region', 'eu-west-3'],
    }
  : undefined;
if (ecrScenario) scenarios.push(ecrScenario);

beforeAll(async () => {
  allAdaptersProject();
  await createTestImage(docker, source, { layers: 1, bytesPerLayer: 8192 });
  if (!ecrScenario) return;
  ecr = await EcrE2eEnvironment.start({ accountId: ECR_ACCOUNT, hosts: [ecrHost], docker });
  ecrScenario.secrets = forms(ecr.registryAuth.password, 'AWS');
  const awsDir = mkdtempSync(path.join(tmpdir(), 'dockpush-secret-aws-'));
  writeFileSync(path.join(awsDir, 'config'), '');
  writeFileSync(path.join(awsDir, 'credentials'), '');
  ecrAwsEnv = {
    AWS_ACCESS_KEY_ID: 'AKIADOCKPUSHSECRETS',
    AWS_SECRET_ACCESS_KEY: 'dockpush-e2e-not-a-secret',
    AWS_CONFIG_FILE: path.join(awsDir, 'config'),
    AWS_SHARED_CREDENTIALS_FILE: path.join(awsDir, 'credentials'),
    AWS_EC2_METADATA_DISABLED: 'true',
    ...ecr.standIn.endpointEnv(),
  };
}, 600_000);
afterAll(async () => {
  await removeImage(docker, source);
  await ecr?.stop();
});

const rows = scenarios.flatMap((scenario) =>
  ALL_ADAPTERS.map((adapter) => ({ adapter, scenario, label: scenario.name })),
);

it.each(rows)('$adapter: $label', async ({ adapter, scenario }: { adapter: Adapter; scenario: Scenario }) => {
  const name = `secrets-${adapter}-${scenarios.indexOf(scenario)}-${unique}`;
  const isEcr = scenario === ecrScenario;
  const repo = `${env.auth.host}/${name}`;
  if (isEcr) ecr?.standIn.addRepository(ecrHost, name);
  const target: Record<string, unknown> = isEcr
    ? { ecrRepo: { repoName: name, accountId: ECR_ACCOUNT, awsRegion: 'eu-west-3' } }
    : { repo };
  const outputFile = path.join(mkdtempSync(path.join(tmpdir(), 'dockpush-secret-out-')), 'result.json');
  const run =
    adapter === 'cli'
      ? await runAdapter(
          'cli',
          [
            'push',
            ...(isEcr ? ['--ecr-repo-name', name] : ['--repo', repo]),
            '--source',
            source,
            '--output-file',
            outputFile,
            ...(scenario.cliExtra ?? []),
          ],
          scenario.env(),
          scenario.stdin ?? '',
        )
      : await runAdapter(adapter, { ...target, source, outputFile, ...scenario.extra }, scenario.env());

  const written = existsSync(outputFile) ? readFileSync(outputFile, 'utf8') : '';
  const everything = `${run.output}\n${written}`;
  const leaked = scenario.secrets.filter((s) => everything.includes(s));
  recordReliability({
    kind: 'secret',
    adapter,
    case: scenario.name,
    outcome:
      leaked.length === 0
        ? `no secret in ${everything.length} bytes of output and files`
        : `LEAKED ${leaked.length} form(s)`,
    detail: `exit ${run.status}; DEBUG=dockpush*; ${written ? 'result file checked' : 'no result file'}`,
  });
  // The run really went through the code that handles the secret.
  expect(run.output).toMatch(/dockpush:(auth|push|engine)/);
  expect(leaked).toEqual([]);
  if (scenario.succeeds) {
    expect(run.status).toBe(0);
    expect(written).toContain('sha256:');
    if (isEcr && ecr) {
      expect(scenario.secrets.length).toBeGreaterThan(0);
      expect(await listTags(ecr.registry, name, ecr.registryAuth)).toEqual(['latest']);
    } else {
      expect(await listTags(env.auth.host, name, env.auth)).toEqual(['latest']);
    }
  } else {
    expect(run.status).not.toBe(0);
    expect(run.output).toMatch(/Cannot authenticate to|unauthorized|authentication required/);
  }
});
