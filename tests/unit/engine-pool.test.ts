import { afterEach, describe, expect, it } from 'vitest';
import { WorkerPool } from '../../engine/pool';
import type { FitTask } from '../../engine/worker-protocol';

const task = (value: number): FitTask => ({
  kind: 'fit',
  algorithm: 'NPTS',
  params: {},
  horizon: 3,
  quantiles: [0.5],
  series: [{ values: Float64Array.from({ length: 30 }, () => value), seasonLength: 7 }],
});

describe('WorkerPool memory limit', () => {
  let pool: WorkerPool | undefined;
  afterEach(async () => {
    await pool?.close();
  });

  it('replaces a worker that outgrew its memory limit and keeps answering', async () => {
    // Prepare: a limit every worker exceeds after its first task
    pool = new WorkerPool(1, 1);
    // Act
    const first = await pool.run(task(4));
    const second = await pool.run(task(9));
    // Assess
    expect(first[0]!.mean).toEqual(new Float64Array([4, 4, 4]));
    expect(second[0]!.mean).toEqual(new Float64Array([9, 9, 9]));
    expect(pool.recycled).toBe(2);
  });

  it('keeps a worker under its limit', async () => {
    // Prepare
    pool = new WorkerPool(1);
    // Act
    await pool.run(task(1));
    await pool.run(task(2));
    // Assess
    expect(pool.recycled).toBe(0);
  });
});
