import { backoffDelay, sleep } from './backoff';

describe('backoffDelay', () => {
  it.each([
    [1, 0, 250],
    [1, 1, 500],
    [2, 1, 1000],
    [3, 0.5, 1500],
    [10, 1, 10000],
  ])('attempt %d with random %d → %d ms', (attempt, r, ms) => {
    expect(backoffDelay(attempt, 500, 10_000, () => r)).toBe(ms);
  });
});
describe('sleep', () => {
  it('rejects as soon as the signal aborts', async () => {
    const controller = new AbortController();
    const started = Date.now();
    const pending = sleep(10_000, controller.signal);
    controller.abort(new Error('stop'));
    await expect(pending).rejects.toThrow('stop');
    expect(Date.now() - started).toBeLessThan(1000);
  });
});
