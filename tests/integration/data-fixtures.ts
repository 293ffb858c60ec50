/**
 * Shared set-up of the data-path integration tests: a real warehouse — a DuckDB file, or the
 * Snowflake adapter through the real snowflake-sdk against the Snowflake protocol stand-in on
 * 127.0.0.1 (an account whose defaults map TIMESTAMP to TIMESTAMP_LTZ in America/Los_Angeles) —,
 * a real folder store, a fake workflow.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FolderObjectStore } from '../../shared/adapters/folder-store';
import { openDuckDbWarehouse } from '../../shared/adapters/duckdb-warehouse';
import { StoreRejectedMessages } from '../../shared/adapters/store-rejections';
import { openSnowflakeWarehouse } from '../../shared/adapters/snowflake-warehouse';
import { startSnowflakeServer } from './snowflake-server';
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

/** The warehouses the data-path suites run on. */
export const WAREHOUSE_KINDS = ['duckdb', 'snowflake'] as const;
export type WarehouseKind = (typeof WAREHOUSE_KINDS)[number];

/** A warehouse of `kind` in `root`, and what closes it (for Snowflake, the server too). */
export async function openTestWarehouse(kind: WarehouseKind, root: string): Promise<{ warehouse: Warehouse; close(): Promise<void> }> {
  if (kind === 'duckdb') {
    const warehouse = await openDuckDbWarehouse({ path: join(root, 'warehouse.duckdb') });
    return { warehouse, close: () => warehouse.close() };
  }
  const server = await startSnowflakeServer({ path: join(root, 'snowflake.duckdb'), accountParameters: { TIMESTAMP_TYPE_MAPPING: 'TIMESTAMP_LTZ', TIMEZONE: 'America/Los_Angeles' } });
  const warehouse = await openSnowflakeWarehouse({
    secretArn: 'arn:aws:secretsmanager:us-east-1:000000000000:secret:snowflake',
    secret: async () => ({ account: server.account, username: 'svc', password: 'secret', warehouse: 'WH', database: 'DB', schema: 'FC', accessUrl: server.url }),
  });
  return {
    warehouse,
    close: async () => {
      await warehouse.close();
      await server.close();
    },
  };
}

export async function openHarness(kind: WarehouseKind = 'duckdb'): Promise<DataHarness> {
  const root = await mkdtemp(join(tmpdir(), 'data-path-'));
  const store = new FolderObjectStore(join(root, 'store'));
  const opened = await openTestWarehouse(kind, root);
  const warehouse = opened.warehouse;
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
      await opened.close();
      await rm(root, { recursive: true, force: true });
    },
  };
}

/** A new harness for each test of the enclosing `describe`, closed after it. */
export function useDataHarness(kind: WarehouseKind = 'duckdb'): DataHarness {
  return perTestFixture('useDataHarness: the harness', () => openHarness(kind), (h) => h.close());
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
