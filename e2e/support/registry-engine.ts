import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type Dockerode from 'dockerode';
import type { PushEvent } from '@dockpush/core';
import { createTestImage, removeImage } from './images';

/** A fresh blob info cache directory, so that no test reuses another's. */
export function freshCacheDir(): string {
  return mkdtempSync(path.join(tmpdir(), 'dockpush-e2e-cache-'));
}

/** `docker save` of `ref` into a new temporary file. */
export function saveImage(ref: string): string {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'dockpush-e2e-archive-')), 'image.tar');
  execFileSync('docker', ['save', '-o', file, ref]);
  return file;
}

/** A local image of random layers, its diffIDs, and its `docker save` archive: the source several registry-engine suites push. */
export async function createSavedTestImage(
  docker: Dockerode,
  ref: string,
  options: Parameters<typeof createTestImage>[2],
): Promise<{ id: string; diffIds: string[]; archive: string }> {
  const { id } = await createTestImage(docker, ref, options);
  const inspected = await docker.getImage(id).inspect();
  return { id, diffIds: inspected.RootFS.Layers ?? [], archive: saveImage(ref) };
}

/**
 * `docker load` of an archive that `saveImage` wrote. Through the CLI, as `saveImage`: the
 * engine API's answer to a load is a stream, and one left unread holds its connection to the
 * engine open, and with it the test process.
 */
export function loadImage(file: string): void {
  execFileSync('docker', ['load', '-q', '-i', file], { stdio: ['ignore', 'ignore', 'inherit'] });
}

/** Pulls `ref` through the engine and returns its image ID and diffIDs; the pulled tag is removed after. */
export async function pullAndInspect(docker: Dockerode, ref: string): Promise<{ id: string; diffIds: string[] }> {
  execFileSync('docker', ['pull', '-q', ref], { stdio: ['ignore', 'ignore', 'inherit'] });
  const inspected = await docker.getImage(ref).inspect();
  execFileSync('docker', ['rmi', ref], { stdio: 'ignore' });
  return { id: inspected.Id, diffIds: inspected.RootFS.Layers ?? [] };
}

/** The states a layer went through, by layer, in the events of the first tag. */
export function layerStates(events: PushEvent[]): Map<string, string[]> {
  const firstTag = events.find((e) => e.type === 'tag-started')?.tag;
  const states = new Map<string, string[]>();
  for (const event of events) {
    if (event.type !== 'layer' || event.tag !== firstTag) continue;
    const list = states.get(event.layer) ?? [];
    if (list[list.length - 1] !== event.state) list.push(event.state);
    states.set(event.layer, list);
  }
  return states;
}

/**
 * Pulls `ref` (what a test pushed) with the local source image `sourceRef` removed, so the
 * engine cannot reuse it, then loads the source back from its `archive`; the pulled image's ID
 * and diffIDs.
 */
export async function pullWithoutSource(
  docker: Dockerode,
  ref: string,
  source: { ref: string; archive: string },
): Promise<{ id: string; diffIds: string[] }> {
  await removeImage(docker, source.ref);
  try {
    return await pullAndInspect(docker, ref);
  } finally {
    loadImage(source.archive);
  }
}
