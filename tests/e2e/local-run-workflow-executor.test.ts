/**
 * `forecast-pipeline run` with FORECAST_ENGINE_EXECUTOR=workflow: the reduced demo (3 items, ETS and
 * NPTS) with every engine job run through statemachine/engine-job.asl.json, shards in child
 * processes, gives the forecasts and metrics of the in-process executor (to 1e-9).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main, type CliIo } from '../../local/cli';
import { openDuckDbWarehouse } from '../../shared/adapters/duckdb-warehouse';

const MESSAGE = {
  param: {
    DataName: 'e2e_workflow',
    ForecastHorizon: 14,
    NumberOfBacktestWindows: 2,
    PerformDelete: true,
    dateCreate: '20250201',
    ForecastFrequency: 'D',
    Models: ['ETS', 'NPTS'],
    ForecastTypes: ['0.10', '0.50', '0.90'],
  },
};
const ITEMS = 3;
const RUN_ID = 'e2e_workflow_2025_02_01';

type Row = Record<string, unknown>;

async function rows(root: string, sql: string): Promise<Row[]> {
  const warehouse = await openDuckDbWarehouse({ path: join(root, 'warehouse.duckdb') });
  try {
    const found: Row[] = [];
    for await (const row of warehouse.query(sql, [RUN_ID])) found.push({ ...row });
    return found;
  } finally {
    await warehouse.close();
  }
}

async function runDemo(executor: 'in-process' | 'workflow') {
  const root = await mkdtemp(join(tmpdir(), `local-run-${executor}-`));
  const chunks: string[] = [];
  const sink = { write: (t: string) => chunks.push(t), isTTY: false };
  const io: CliIo = { out: sink, err: sink, env: { ...process.env, FORECAST_ENGINE_EXECUTOR: executor } };
  const code = await main(['run', '--message', JSON.stringify(MESSAGE), '--items', String(ITEMS), '--root', root, '--workers', '1'], io);
  const forecasts = await rows(root, `SELECT MODEL, ITEM_ID, CAST(FORECAST_DATE AS VARCHAR) AS D, FORECAST_TYPE, VALUE FROM FORECAST_RESULTS WHERE RUN_ID = ? ORDER BY 1, 2, 3, 4`);
  const metrics = await rows(root, `SELECT MODEL, SOURCE, METRIC, FORECAST_TYPE, VALUE FROM FORECAST_METRICS WHERE RUN_ID = ? ORDER BY 1, 2, 3, 4`);
  return { root, code, output: chunks.join(''), forecasts, metrics };
}

function expectSameRows(actual: Row[], expected: Row[]): void {
  expect(actual.length).toBe(expected.length);
  actual.forEach((row, i) => {
    const want = expected[i]!;
    for (const [key, value] of Object.entries(want)) {
      if (typeof value === 'number' && Number.isFinite(value)) expect(Math.abs((row[key] as number) - value), `${i}.${key}`).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(value)));
      else expect(row[key], `${i}.${key}`).toEqual(value);
    }
  });
}

describe('forecast-pipeline run on the workflow executor', () => {
  let inProcess: Awaited<ReturnType<typeof runDemo>>;
  let workflow: Awaited<ReturnType<typeof runDemo>>;

  beforeAll(async () => {
    inProcess = await runDemo('in-process');
    workflow = await runDemo('workflow');
  }, 600_000);

  afterAll(async () => {
    for (const run of [inProcess, workflow]) if (run) await rm(run.root, { recursive: true, force: true });
  });

  it('succeeds and prints the shards as they finish', () => {
    expect(inProcess.code, inProcess.output).toBe(0);
    expect(workflow.code, workflow.output).toBe(0);
    expect(workflow.output).toMatch(/engine predictor\/\S+: shard 1 done \(\d+ series, \d+ ms\)/);
    expect(workflow.output).toMatch(/engine forecast\/\S+: shard 1 done/);
    expect(inProcess.output).not.toMatch(/shard \d+ done/);
  });

  it('writes the forecasts and metrics of the in-process executor', () => {
    expect(inProcess.forecasts.length).toBeGreaterThan(0);
    expect(inProcess.metrics.length).toBeGreaterThan(0);
    expectSameRows(workflow.forecasts, inProcess.forecasts);
    expectSameRows(workflow.metrics, inProcess.metrics);
  });
});
