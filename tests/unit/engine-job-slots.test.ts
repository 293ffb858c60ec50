import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CreatePredictorCommand } from '@aws-sdk/client-forecast';
import { FolderObjectStore } from '../../shared/adapters/folder-store';
import { ConfigurationError } from '../../shared/errors';
import type { WriteCondition } from '../../shared/ports/storage';
import { createBuiltinForecast } from '../../engine/client';
import { FaultInjector } from '../../engine/faults';
import { JobSlots } from '../../engine/job-slots';
import { jobSlotsFromEnv, workerMemoryLimitFromEnv } from '../../engine/limits';
import { dailyCsv, describePredictor, importedGroup, waitFor, type EngineFixture } from './engine-helpers';

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('JobSlots', () => {
  it('lets `size` holders in and the rest in arrival order', async () => {
    // Prepare
    const slots = new JobSlots(2);
    const order: string[] = [];
    const releases = new Map<string, () => void>();
    const take = (name: string) =>
      void slots.acquire().then((release) => {
        order.push(name);
        releases.set(name, release);
      });

    // Act
    ['a', 'b', 'c', 'd'].forEach(take);
    await tick();
    const firstIn = [...order];
    releases.get('b')!();
    await tick();
    const afterB = [...order];
    releases.get('a')!();
    await tick();

    // Assess
    expect(firstIn).toEqual(['a', 'b']);
    expect(slots.queued).toBe(0);
    expect(afterB).toEqual(['a', 'b', 'c']);
    expect(order).toEqual(['a', 'b', 'c', 'd']);
  });

  it('gives a slot back once however often release is called', async () => {
    // Prepare
    const slots = new JobSlots(1);
    const release = await slots.acquire();
    let second = false;
    let third = false;
    void slots.acquire().then(() => (second = true));
    void slots.acquire().then(() => (third = true));

    // Act
    release();
    release();
    await tick();

    // Assess
    expect(second).toBe(true);
    expect(third).toBe(false);
    expect(slots.queued).toBe(1);
  });

  it('rejects a size that is not a positive integer, from code and from FORECAST_ENGINE_JOB_SLOTS', () => {
    expect(() => new JobSlots(0)).toThrow(ConfigurationError);
    expect(() => jobSlotsFromEnv({ FORECAST_ENGINE_JOB_SLOTS: 'two' })).toThrow(/FORECAST_ENGINE_JOB_SLOTS must be a positive integer/);
    expect(() => jobSlotsFromEnv({ FORECAST_ENGINE_JOB_SLOTS: '1.5' })).toThrow(ConfigurationError);
    expect(jobSlotsFromEnv({ FORECAST_ENGINE_JOB_SLOTS: '3' })).toBe(3);
    expect(jobSlotsFromEnv({})).toBe(1);
  });

  it('reads the worker memory limit in MiB from FORECAST_ENGINE_WORKER_MEMORY_MB', () => {
    expect(workerMemoryLimitFromEnv({})).toBe(96 * 2 ** 20);
    expect(workerMemoryLimitFromEnv({ FORECAST_ENGINE_WORKER_MEMORY_MB: '64' })).toBe(64 * 2 ** 20);
    expect(() => workerMemoryLimitFromEnv({ FORECAST_ENGINE_WORKER_MEMORY_MB: '-1' })).toThrow(/FORECAST_ENGINE_WORKER_MEMORY_MB must be a positive integer, got "-1"/);
  });
});

/** A folder store that records every status a predictor document is written with, in order. */
class StatusRecordingStore extends FolderObjectStore {
  readonly transitions: { name: string; status: string }[] = [];

  override async put(uri: string, body: string | Uint8Array): Promise<void> {
    this.record(body);
    return super.put(uri, body);
  }

  /** The engine writes its documents conditionally: record the writes that succeed. */
  override async putIf(uri: string, body: string | Uint8Array, condition: WriteCondition): Promise<string> {
    const version = await super.putIf(uri, body, condition);
    this.record(body);
    return version;
  }

  private record(body: string | Uint8Array): void {
    if (typeof body === 'string' && body.startsWith('{')) {
      const doc = JSON.parse(body) as { type?: string; name?: string; status?: string };
      const last = [...this.transitions].reverse().find((t) => t.name === doc.name);
      if (doc.type === 'predictor' && doc.status && last?.status !== doc.status) this.transitions.push({ name: doc.name!, status: doc.status });
    }
  }
}

describe('Engine: one job works at a time by default', () => {
  it('keeps later predictors CREATE_PENDING until the one in progress has finished', async () => {
    // Prepare
    const root = await mkdtemp(join(tmpdir(), 'engine-slots-'));
    const store = new StatusRecordingStore(root);
    const engine = createBuiltinForecast({ store, stateUri: 's3://bucket/.engine', workers: 1, jobSlots: 1, faults: new FaultInjector([]), timing: { pendingMs: 5 } });
    const fx: EngineFixture = { root, store, engine, cleanup: async () => {} };
    try {
      const { DatasetGroupArn } = await importedGroup(fx, dailyCsv(['a', 'b', 'c'], 70));
      const create = (name: string) =>
        fx.engine.send(
          new CreatePredictorCommand({
            PredictorName: name,
            AlgorithmArn: 'arn:aws:forecast:::algorithm/ETS',
            ForecastHorizon: 7,
            InputDataConfig: { DatasetGroupArn },
            FeaturizationConfig: { ForecastFrequency: 'D' },
          }),
        );

      // Act
      const arns = await Promise.all(['first', 'second', 'third'].map(create));
      const outcomes = await Promise.all(arns.map(({ PredictorArn }) => waitFor(() => describePredictor(fx, PredictorArn!), 60_000)));

      // Assess
      expect(outcomes.map((o) => o.Status)).toEqual(['ACTIVE', 'ACTIVE', 'ACTIVE']);
      let inProgress = 0;
      let most = 0;
      for (const t of store.transitions) {
        if (t.status === 'CREATE_IN_PROGRESS') most = Math.max(most, ++inProgress);
        if (t.status === 'ACTIVE' || t.status === 'CREATE_FAILED') inProgress--;
      }
      expect(most).toBe(1);
      expect(store.transitions.filter((t) => t.status === 'CREATE_IN_PROGRESS').map((t) => t.name).sort()).toEqual(['first', 'second', 'third']);
    } finally {
      await engine.idle();
      await engine.close();
      await rm(root, { recursive: true, force: true });
    }
  });
});
