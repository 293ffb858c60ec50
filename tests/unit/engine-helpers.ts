/** Shared set-up for the engine tests: a temp folder store, a fast-timed engine, small daily data. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateDatasetCommand,
  CreateDatasetGroupCommand,
  CreateDatasetImportJobCommand,
  DescribeDatasetImportJobCommand,
  DescribeForecastCommand,
  DescribeForecastExportJobCommand,
  DescribePredictorCommand,
} from '@aws-sdk/client-forecast';
import { expect } from 'vitest';
import { FolderObjectStore } from '../../shared/adapters/folder-store';
import type { ObjectStore } from '../../shared/ports';
import { createBuiltinForecast, type BuiltinForecast, type BuiltinForecastOptions } from '../../engine/client';
import { FaultInjector } from '../../engine/faults';
import { perTestFixture } from '../per-test-fixture';

export interface EngineFixture {
  readonly root: string;
  readonly store: FolderObjectStore;
  readonly engine: BuiltinForecast;
  cleanup(): Promise<void>;
}

export async function engineFixture(overrides: Partial<BuiltinForecastOptions> = {}): Promise<EngineFixture> {
  const root = await mkdtemp(join(tmpdir(), 'engine-test-'));
  const store = new FolderObjectStore(root);
  const engine = createBuiltinForecast({
    store,
    stateUri: 's3://bucket/.engine',
    workers: 1,
    faults: new FaultInjector([]),
    timing: { pendingMs: 5, deleteMs: 250, heartbeatMs: 200, leaseMs: 2_000 },
    ...overrides,
  });
  return {
    root,
    store,
    engine,
    async cleanup() {
      await engine.idle();
      await engine.close();
      await rm(root, { recursive: true, force: true });
    },
  };
}

/** A new engine fixture for each test of the enclosing `describe`, cleaned up after it. */
export function useEngineFixture(overrides: Partial<BuiltinForecastOptions> = {}): EngineFixture {
  return perTestFixture('useEngineFixture: the fixture', () => engineFixture(overrides), (fx) => fx.cleanup());
}

/** Headerless `timestamp,item_id,target_value` rows: weekly pattern plus item level, `days` days from 2024-01-01. */
export function dailyCsv(items: readonly string[], days: number, options: { skip?: (item: string, day: number) => boolean } = {}): string {
  const rows: string[] = [];
  for (const item of items) {
    const level = 10 + items.indexOf(item) * 5;
    for (let d = 0; d < days; d++) {
      if (options.skip?.(item, d)) continue;
      const t = new Date(Date.UTC(2024, 0, 1 + d)).toISOString().slice(0, 10);
      rows.push(`${t},${item},${level + (d % 7) * 2 + ((d * 37) % 11) / 10}`);
    }
  }
  return rows.join('\n') + '\n';
}

export const TARGET_SCHEMA = {
  Attributes: [
    { AttributeName: 'timestamp', AttributeType: 'timestamp' as const },
    { AttributeName: 'item_id', AttributeType: 'string' as const },
    { AttributeName: 'target_value', AttributeType: 'float' as const },
  ],
};

type Status = { Status?: string; Message?: string };

/** Polls a Describe until the status leaves CREATE_PENDING / CREATE_IN_PROGRESS. */
export async function waitFor(describe: () => Promise<Status>, timeoutMs = 30_000): Promise<Status> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const out = await describe();
    if (out.Status !== 'CREATE_PENDING' && out.Status !== 'CREATE_IN_PROGRESS') return out;
    if (Date.now() > until) throw new Error(`Still ${out.Status} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Dataset + group + ACTIVE import of `csv`; returns the ARNs. */
export async function importedGroup(fx: Pick<EngineFixture, 'engine'> & { readonly store: ObjectStore }, csv: string, name = 'demo', frequency = 'D') {
  await fx.store.put(`s3://bucket/${name}/target.csv`, csv);
  const { DatasetArn } = await fx.engine.send(
    new CreateDatasetCommand({ DatasetName: `${name}_TARGET`, Domain: 'CUSTOM', DatasetType: 'TARGET_TIME_SERIES', DataFrequency: frequency, Schema: TARGET_SCHEMA }),
  );
  const { DatasetGroupArn } = await fx.engine.send(new CreateDatasetGroupCommand({ DatasetGroupName: `${name}_group`, Domain: 'CUSTOM', DatasetArns: [DatasetArn!] }));
  const { DatasetImportJobArn } = await fx.engine.send(
    new CreateDatasetImportJobCommand({
      DatasetImportJobName: `${name}_import`,
      DatasetArn,
      DataSource: { S3Config: { Path: `s3://bucket/${name}/target.csv`, RoleArn: 'arn:aws:iam::000000000000:role/x' } },
      TimestampFormat: 'yyyy-MM-dd',
    }),
  );
  const imported = await waitFor(() => fx.engine.send(new DescribeDatasetImportJobCommand({ DatasetImportJobArn })));
  if (imported.Status !== 'ACTIVE') throw new Error(`import ${imported.Status}: ${imported.Message}`);
  return { DatasetArn: DatasetArn!, DatasetGroupArn: DatasetGroupArn!, DatasetImportJobArn: DatasetImportJobArn! };
}

export const describePredictor = (fx: EngineFixture, PredictorArn: string) => fx.engine.send(new DescribePredictorCommand({ PredictorArn }));
export const describeForecast = (fx: EngineFixture, ForecastArn: string) => fx.engine.send(new DescribeForecastCommand({ ForecastArn }));
export const describeExport = (fx: EngineFixture, ForecastExportJobArn: string) =>
  fx.engine.send(new DescribeForecastExportJobCommand({ ForecastExportJobArn }));

/** Polls until `probe` resolves true (e.g. a delete finished). */
export async function eventually(probe: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > until) throw new Error(`Condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Every number in `actual` within 1e-9 of `expected`'s, everything else equal. */
export function expectClose(actual: unknown, expected: unknown, path = '$'): void {
  if (typeof expected === 'number' && typeof actual === 'number') {
    if (Number.isNaN(expected)) expect(Number.isNaN(actual), path).toBe(true);
    else expect(Math.abs(actual - expected), path).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(expected)));
    return;
  }
  if (expected && typeof expected === 'object' && !(expected instanceof Date)) {
    expect(Object.keys(actual as object).sort(), path).toEqual(Object.keys(expected).sort());
    for (const key of Object.keys(expected)) expectClose((actual as Record<string, unknown>)[key], (expected as Record<string, unknown>)[key], `${path}.${key}`);
    return;
  }
  expect(actual, path).toEqual(expected);
}
