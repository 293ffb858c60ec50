/**
 * One whole local pipeline run with Snowflake as the warehouse: the real snowflake-sdk against
 * the Snowflake protocol stand-in on 127.0.0.1 (an account mapping TIMESTAMP to TIMESTAMP_LTZ in
 * America/Los_Angeles). Parse extracts through the driver, the state machine runs the steps and
 * the built-in engine, notify writes forecasts, metrics and the run status back through it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runPipeline, type RunResult } from '../../local/runner';
import { openSnowflakeWarehouse } from '../../shared/adapters/snowflake-warehouse';
import type { Row } from '../../shared/ports/warehouse';
import { startSnowflakeServer, type SnowflakeServer } from '../integration/snowflake-server';

const MESSAGE = {
  param: { DataName: 'sf_small', ForecastHorizon: 14, NumberOfBacktestWindows: 1, PerformDelete: true, dateCreate: '20250201', ForecastFrequency: 'D', Models: ['ETS', 'NPTS'], ForecastTypes: ['0.10', '0.50', '0.90'] },
};
const RUN_ID = 'sf_small_2025_02_01';

describe('forecast-pipeline run: end to end with Snowflake (real driver, protocol server on loopback)', () => {
  let root: string;
  let server: SnowflakeServer;
  let result: RunResult;
  let output = '';
  const openWarehouse = () =>
    openSnowflakeWarehouse({
      secretArn: 'arn:aws:secretsmanager:us-east-1:000000000000:secret:snowflake',
      secret: async () => ({ account: server.account, username: 'svc', password: 'secret', warehouse: 'WH', database: 'DB', schema: 'FC', accessUrl: server.url }),
    });
  const query = async (sql: string): Promise<Row[]> => {
    const warehouse = await openWarehouse();
    try {
      const rows: Row[] = [];
      for await (const row of warehouse.query(sql, [RUN_ID])) rows.push(row);
      return rows;
    } finally {
      await warehouse.close();
    }
  };

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'local-run-snowflake-'));
    server = await startSnowflakeServer({ path: join(root, 'snowflake.duckdb'), accountParameters: { TIMESTAMP_TYPE_MAPPING: 'TIMESTAMP_LTZ', TIMEZONE: 'America/Los_Angeles' } });
    result = await runPipeline({ root, message: MESSAGE, items: 3, out: { write: (text: string) => (output += text), isTTY: false }, plain: true, report: false, workers: 2, openWarehouse });
  }, 240_000);

  afterAll(async () => {
    await server?.close();
    if (root) await rm(root, { recursive: true, force: true });
  });

  it('succeeds, and every statement went to the Snowflake server', () => {
    expect(result.exitCode, output).toBe(0);
    expect(result.summary?.status).toBe('SUCCEEDED');
    expect(server.statements.some((s) => /^SELECT TIMESTAMP, ITEM_ID, TARGET_VALUE FROM/.test(s))).toBe(true);
    expect(server.statements.some((s) => /^INSERT INTO FORECAST_RESULTS/.test(s))).toBe(true);
  });

  it('wrote the forecasts of both models from the cut-off on, unshifted by the account time zone', async () => {
    const [span] = await query('SELECT COUNT(*) AS N, MIN(FORECAST_DATE) AS FIRST, MAX(FORECAST_DATE) AS LAST, COUNT(DISTINCT MODEL) AS MODELS FROM FORECAST_RESULTS WHERE RUN_ID = ?');
    // 3 items × 2 models × 14 days × 3 quantiles.
    expect(span).toEqual({ N: 3 * 2 * 14 * 3, FIRST: new Date('2025-02-01T00:00:00Z'), LAST: new Date('2025-02-14T00:00:00Z'), MODELS: 2 });
    const [status] = await query('SELECT STATUS FROM FORECAST_RUNS WHERE RUN_ID = ?');
    expect(status).toEqual({ STATUS: 'SUCCEEDED' });
  });
});
