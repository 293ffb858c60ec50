/** Shared set-up of the data-path integration tests: a real DuckDB file, a real folder store, a fake workflow. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FolderObjectStore } from '../../shared/adapters/folder-store';
import { openDuckDbWarehouse } from '../../shared/adapters/duckdb-warehouse';
import { StoreRejectedMessages } from '../../shared/adapters/store-rejections';
import type { ExecutionDescription, ExecutionStatus, ForecastPort, StartedExecution, Warehouse, WorkflowStarter } from '../../shared/ports';
import type { Dependencies } from '../../shared/runtime';
import { perTestFixture } from '../per-test-fixture';
import { ensureTables, writeTargetInputRows, writeRelatedInputRows } from '../../shared/warehouse/layout';

/** A workflow that records its starts; an execution it started stays RUNNING until `end` says otherwise. */
export class RecordingWorkflow implements WorkflowStarter {
  readonly calls: { name: string; input: unknown }[] = [];
  private readonly executions = new Map<string, ExecutionDescription>();
  async startExecution(name: string, input: unknown): Promise<StartedExecution> {
    const alreadyStarted = this.calls.some((c) => c.name === name);
    this.calls.push({ name, input });
    const executionArn = `arn:aws:states:us-east-1:000000000000:execution:test:${name}`;
    if (!alreadyStarted) this.executions.set(name, { name, executionArn, status: 'RUNNING', input });
    return { executionArn, alreadyStarted };
  }
  async describeExecution(name: string): Promise<ExecutionDescription | undefined> {
    return this.executions.get(name);
  }
  /** Ends an execution it started with that status. */
  end(name: string, status: ExecutionStatus): void {
    const execution = this.executions.get(name);
    if (!execution) throw new Error(`no execution ${name}`);
    this.executions.set(name, { ...execution, status });
  }
}

export interface DataHarness {
  readonly root: string;
  readonly store: FolderObjectStore;
  readonly warehouse: Warehouse;
  readonly workflow: RecordingWorkflow;
  readonly deps: Dependencies;
  close(): Promise<void>;
}

export async function openHarness(): Promise<DataHarness> {
  const root = await mkdtemp(join(tmpdir(), 'data-path-'));
  const store = new FolderObjectStore(join(root, 'store'));
  const warehouse = await openDuckDbWarehouse({ path: join(root, 'warehouse.duckdb') });
  await ensureTables(warehouse);
  const workflow = new RecordingWorkflow();
  const deps: Dependencies = {
    forecast: {} as ForecastPort,
    store,
    warehouse: async () => warehouse,
    workflow,
    rejections: new StoreRejectedMessages(store, 'bucket'),
    settings: { bucket: 'bucket', forecastRoleArn: 'arn:aws:iam::000000000000:role/test' },
  };
  return {
    root,
    store,
    warehouse,
    workflow,
    deps,
    close: async () => {
      await warehouse.close();
      await rm(root, { recursive: true, force: true });
    },
  };
}

/** A new harness for each test of the enclosing `describe`, closed after it. */
export function useDataHarness(): DataHarness {
  return perTestFixture('useDataHarness: the harness', openHarness, (h) => h.close());
}

const DAY = 86_400_000;

/** `days` daily actuals per item from 2024-01-01, value = base + day index (so every row is recognisable). */
export async function seedDaily(warehouse: Warehouse, dataName: string, items: readonly string[], days: number, value = (item: number, day: number) => 10 * (item + 1) + day): Promise<number> {
  const start = Date.UTC(2024, 0, 1);
  const rows = items.flatMap((itemId, i) =>
    Array.from({ length: days }, (_, d) => ({ dataName, itemId, timestamp: new Date(start + d * DAY), value: value(i, d) })),
  );
  return writeTargetInputRows(warehouse, rows);
}

export async function seedRelated(warehouse: Warehouse, dataName: string, items: readonly string[], days: number): Promise<number> {
  const start = Date.UTC(2024, 0, 1);
  const rows = items.flatMap((itemId) =>
    Array.from({ length: days }, (_, d) => ({ dataName, itemId, timestamp: new Date(start + d * DAY), price: 1 + (d % 3), promotion: d % 7 === 0 ? 1 : 0 })),
  );
  return writeRelatedInputRows(warehouse, rows);
}

export async function count(warehouse: Warehouse, sql: string, binds: unknown[] = []): Promise<number> {
  for await (const row of warehouse.query(sql, binds as never)) return Number(Object.values(row)[0]);
  return 0;
}
