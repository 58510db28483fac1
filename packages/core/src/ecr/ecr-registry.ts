/** What an ECR registry host says about itself. */
export type EcrRegistry =
  { kind: 'private'; host: string; accountId: string; region: string } | { kind: 'public'; host: string };

export const ECR_PUBLIC_HOST = 'public.ecr.aws';
/** ECR Public issues its tokens in us-east-1 only. */
export const ECR_PUBLIC_REGION = 'us-east-1';

// <account>.dkr.ecr[-fips].<region>.amazonaws.com[.cn], and the dual-stack
// <account>.dkr-ecr[-fips].<region>.on.aws form.
const PRIVATE_HOST_RE = /^(\d{12})\.dkr[.-]ecr(?:-fips)?\.([a-z0-9-]+)\.(?:amazonaws\.com(?:\.cn)?|on\.aws|api\.aws)$/;

/** Recognizes an ECR registry host (private, FIPS, dual-stack, China, or public). */
export function parseEcrRegistry(host: string): EcrRegistry | undefined {
  const bare = host
    .toLowerCase()
    .replace(/^https?:\/\//, '')
    .replace(/\/.*$/, '');
  if (bare === ECR_PUBLIC_HOST) return { kind: 'public', host: bare };
  const m = PRIVATE_HOST_RE.exec(bare);
  if (m?.[1] && m[2]) return { kind: 'private', host: bare, accountId: m[1], region: m[2] };
  return undefined;
}

/** The private ECR registry host of an account and region (`.amazonaws.com.cn` for `cn-*`). */
export function privateEcrHost(accountId: string, region: string): string {
  const suffix = region.startsWith('cn-') ? 'amazonaws.com.cn' : 'amazonaws.com';
  return `${accountId}.dkr.ecr.${region}.${suffix}`;
}

/** `public.ecr.aws/<alias>/<repoName>` */
export function publicEcrRepository(registryAlias: string, repoName: string): string {
  return `${ECR_PUBLIC_HOST}/${registryAlias}/${repoName}`;
}
