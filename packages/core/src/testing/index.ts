/**
 * Fixtures shared by the unit tests of every package (`@dockpush/core/testing` in specs only).
 * Kept out of the build and of the published package.
 */
import type Dockerode from 'dockerode';
import type { PushPlan } from '../plan/resolve-push-plan';

/** The dry-run plan for one tag `1` of localhost:5000/app, pushed anonymously through the Docker engine. */
export const onePushPlan: PushPlan = {
  repo: 'localhost:5000/app',
  tags: ['1'],
  uri: { '1': 'localhost:5000/app:1' },
  registry: 'localhost:5000',
  source: null,
  credentials: 'anonymous',
  engine: 'docker',
};

/** An engine that answers pings and knows no image. */
export const emptyEngine = {
  ping: async () => 'OK',
  getImage: () => ({
    inspect: async () => {
      throw Object.assign(new Error('no such image'), { statusCode: 404 });
    },
  }),
} as unknown as Dockerode;
