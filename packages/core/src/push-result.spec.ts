import { onePushPlan } from './testing';
import { isPushPlan, type PushResult } from './push-result';

describe('isPushPlan', () => {
  const plan = onePushPlan;
  const result: PushResult = {
    image: { id: 'sha256:1', repo: 'localhost:5000/app', tags: ['1'], uri: { '1': 'localhost:5000/app:1' } },
    pushed: [{ tag: '1', uri: 'localhost:5000/app:1', digest: 'sha256:2', size: 1, imageId: 'sha256:1' }],
    engine: 'docker',
  };

  it('tells a dry run plan from a push result', () => {
    expect(isPushPlan(plan)).toBe(true);
    expect(isPushPlan(result)).toBe(false);
  });
});
