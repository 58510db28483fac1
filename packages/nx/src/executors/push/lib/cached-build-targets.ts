import type { ExecutorContext, TargetConfiguration } from '@nx/devkit';

/**
 * The targets this task depends on in its own project that Nx may restore from its cache
 * (`cache: true` on the target, or in nx.json's targetDefaults by name or executor).
 */
export function cachedBuildTargets(context: ExecutorContext): string[] {
  const projectName = context.projectName;
  const targetName = context.targetName;
  if (!projectName || !targetName) return [];
  const targets = context.projectsConfigurations?.projects[projectName]?.targets ?? {};
  const dependsOn = targets[targetName]?.dependsOn ?? [];
  const defaults = (context.nxJsonConfiguration?.targetDefaults ?? {}) as Record<string, unknown>;
  return dependsOn
    .map((d) => (typeof d === 'string' ? d : d.projects === undefined && !d.dependencies ? d.target : undefined))
    .filter((name): name is string => !!name && !name.startsWith('^') && targets[name] !== undefined)
    .filter((name) => isCached(targets[name] as TargetConfiguration, defaults[name], defaults));
}

function isCached(target: TargetConfiguration, byName: unknown, defaults: Record<string, unknown>): boolean {
  if (target.cache !== undefined) return target.cache;
  const byExecutor = target.executor ? defaults[target.executor] : undefined;
  return (cacheOf(byName) ?? cacheOf(byExecutor)) === true;
}

/** `cache` of a targetDefaults entry: an object, or (Nx 24) a list of entries. */
function cacheOf(entry: unknown): boolean | undefined {
  const entries = Array.isArray(entry) ? entry : [entry];
  for (const e of entries) {
    const cache = (e as { cache?: unknown } | null | undefined)?.cache;
    if (typeof cache === 'boolean') return cache;
  }
  return undefined;
}
