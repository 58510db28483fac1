import { explainInvalidRepository } from '../args/reference';
import { RepositoryReference } from '../args/repository-reference';
import type { EngineName, PushArgs } from '../args/push-args';
import { defaultAuthProviders } from '../auth/credential-chain';
import { CredentialSession } from '../auth/credential-session';
import type { CredentialSource } from '../auth/registry-auth';
import { missingRegionError, SdkRegionProvider, StsAccountIdProvider } from '../ecr/aws-clients';
import { type EcrRegistry, parseEcrRegistry, privateEcrHost, publicEcrRepository } from '../ecr/ecr-registry';
import type { WaitLimits } from '../deadline';
import type { EnginePort } from '../engine/engine-port';
import { ArgumentsError } from '../errors';
import { DockerImage } from '../image/docker-image';
import type { PushOptions } from '../push-options';
import { resolveTags } from './resolve-tags';

/** What a push would do: printed by `--dry-run --json`, returned by `resolvePushPlan`. */
export interface PushPlan {
  repo: string;
  tags: string[];
  uri: Record<string, string>;
  registry: string;
  /** The local image retagged before the push, when one is. */
  source: string | null;
  /** Where the credentials would come from. */
  credentials: CredentialSource;
  /** What would upload the image: the Docker engine, or dockpush itself (the registry engine). */
  engine: EngineName;
  /** Each tag and the rule or tag template that produced it; present only with tag rules or placeholders. */
  tagSources?: Record<string, string>;
}

/** A plan plus what the push engine needs to carry it out. */
export interface ResolvedPush {
  plan: PushPlan;
  /** The image of an `image` target. */
  image?: DockerImage;
  /** The ECR registry, when the repository is in one. */
  ecr?: EcrRegistry;
  /** The repository, parsed once: its registry and its name there. */
  repository: RepositoryReference;
  /** The push's credentials: asked for the plan's source, and by the engine for the credentials. */
  credentials: CredentialSession;
}

/** Resolves URIs, tags and the credential source without pushing (architecture.md § Arguments, § ECR). */
export async function resolvePush(
  args: PushArgs,
  options: PushOptions,
  engine: () => Promise<EnginePort>,
  limits: WaitLimits = {},
): Promise<ResolvedPush> {
  const { repo, image } = await resolveRepository(args, options, engine, limits);
  const repository = RepositoryReference.parse(repo);
  if (!repository) {
    const message = explainInvalidRepository(repo) ?? `${JSON.stringify(repo)} is not a valid repository`;
    throw new ArgumentsError([{ path: args.target.kind === 'ecr' ? 'ecrRepo.repoName' : 'image', message }]);
  }
  const registry = repository.registry;
  const ecr = parseEcrRegistry(registry);
  if (args.createRepository && ecr?.kind !== 'private') {
    throw new ArgumentsError([
      {
        path: 'createRepository',
        message: `applies only to private ECR repositories, and ${registry} is not one; remove the option`,
      },
    ]);
  }
  const { tags, tagSources } = await resolveTags(
    args,
    options,
    () => (image && image.tags.length > 0 ? image.tags : ['latest']),
    limits,
  );
  const authProviders =
    options.authProviders ??
    defaultAuthProviders({
      ...(args.auth ? { auth: args.auth } : {}),
      ...(options.env ? { env: options.env } : {}),
      ...(options.ecrTokens ? { ecrTokens: options.ecrTokens } : {}),
      ...(options.ecrTokenCache ? { ecrTokenCache: options.ecrTokenCache } : {}),
      ...(options.redactor ? { redactor: options.redactor } : {}),
      ...(options.runCredentialHelper ? { runHelper: options.runCredentialHelper } : {}),
    });
  const credentials = new CredentialSession(authProviders, limits, options.redactor);
  const source = await credentials.sourceFor(registry);
  return {
    plan: {
      repo,
      tags,
      uri: Object.fromEntries(tags.map((t) => [t, repository.withTag(t)])),
      registry,
      source: args.source ?? null,
      credentials: source,
      engine: args.engine,
      ...(tagSources ? { tagSources } : {}),
    },
    ...(image ? { image } : {}),
    ...(ecr ? { ecr } : {}),
    repository,
    credentials,
  };
}

async function resolveRepository(
  args: PushArgs,
  options: PushOptions,
  engine: () => Promise<EnginePort>,
  limits: WaitLimits,
): Promise<{ repo: string; image?: DockerImage }> {
  const target = args.target;
  switch (target.kind) {
    case 'repo':
      return { repo: target.repo };
    case 'ecr': {
      const { repoName, registryAlias } = target.ecrRepo;
      if (registryAlias) return { repo: publicEcrRepository(registryAlias, repoName) };
      const region =
        target.ecrRepo.awsRegion ?? (await (options.regions ?? new SdkRegionProvider(options.env)).getRegion());
      if (!region) throw missingRegionError();
      const accountId =
        target.ecrRepo.accountId ??
        (await (options.accountIds ?? new StsAccountIdProvider()).getAccountId(region, limits));
      return { repo: `${privateEcrHost(accountId, region)}/${repoName}` };
    }
    case 'image': {
      if (typeof target.image !== 'string') {
        const given = target.image;
        return { repo: given.repo, image: new DockerImage(given.id ?? '', given.repo, [...given.tags]) };
      }
      const image = await (await engine()).inspect(target.image, limits);
      const dockerImage = DockerImage.fromInspect(image, target.image);
      if (!dockerImage) {
        throw new ArgumentsError([
          {
            path: 'image',
            message: `the local image "${target.image}" has no repository tags, so there is nothing to push it as; give repo (e.g. "localhost:5000/app") with source: "${target.image}" instead`,
          },
        ]);
      }
      return { repo: dockerImage.repo, image: dockerImage };
    }
  }
}
