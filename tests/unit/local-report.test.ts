import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDuckDbWarehouse } from '../../shared/adapters/duckdb-warehouse';
import type { Warehouse } from '../../shared/ports';
import { ensureTables, writeTargetInputRows } from '../../shared/warehouse/layout';
import { insertForecastRows, replaceDataIssues, writeRunStatus, type ForecastRow } from '../../shared/warehouse/writers';
import { readReportData } from '../../local/report';
import { renderReportPage } from '../../local/report-page';

const DAY = 86_400_000;
const START = Date.UTC(2025, 1, 1);
const RUN = { dataName: 'rep', runId: 'rep_2025_02_01' };
const HOSTILE = '</script><script>alert(1)</script>';
const ITEMS = [
  { id: 'small', level: 1 },
  { id: 'big', level: 100 },
  { id: HOSTILE, level: 50 },
  { id: 'tiny', level: 0.5 },
];

describe('Local report: readReportData and the page', () => {
  let dir: string;
  let warehouse: Warehouse;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'local-report-'));
    warehouse = await openDuckDbWarehouse({ path: join(dir, 'w.duckdb') });
    await ensureTables(warehouse);
    // 200 days of history and 10 days of validation actuals per item.
    await writeTargetInputRows(
      warehouse,
      ITEMS.flatMap(({ id, level }) => Array.from({ length: 210 }, (_, d) => ({ dataName: RUN.dataName, itemId: id, timestamp: new Date(START + (d - 200) * DAY), value: level }))),
    );
    const forecasts: ForecastRow[] = ITEMS.flatMap(({ id, level }) =>
      ['ETS', 'NPTS'].flatMap((model) =>
        Array.from({ length: 7 }, (_, h) =>
          ['mean', 'p90', 'p10', 'p50'].map((type) => ({ model, predictorName: `rep_${model}`, itemId: id, dimensions: null, date: new Date(START + h * DAY), forecastType: type, value: level })),
        ).flat(),
      ),
    );
    await insertForecastRows(warehouse, RUN, forecasts);
    await writeRunStatus(warehouse, RUN, { dateCreate: '20250201', status: 'PARTIAL', reason: 'PROPHET failed', failedModels: ['PROPHET'], forecastRows: forecasts.length, metricRows: 0 });
  });

  afterAll(async () => {
    await warehouse?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('shows the largest sellers first, bounded history, actuals within the horizon only, types in quantile order', async () => {
    // Act
    const data = await readReportData(warehouse, RUN.runId, { maxItems: 2, historyPoints: 30 });

    // Assess
    expect(data.items.map((i) => i.id)).toEqual(['big', HOSTILE]);
    expect(data.run).toMatchObject({ status: 'PARTIAL', failedModels: ['PROPHET'], itemsTotal: 4, forecastStart: START });
    expect(data.models).toEqual(['ETS', 'NPTS']);
    expect(data.forecastTypes).toEqual(['p10', 'p50', 'p90', 'mean']);
    const big = data.items[0]!;
    expect(big.history.t).toHaveLength(30);
    expect(Math.max(...big.history.t)).toBe(START - DAY);
    expect(big.actuals.t).toEqual(Array.from({ length: 7 }, (_, h) => START + h * DAY));
    expect(big.forecasts.ETS!.values.p50).toEqual(Array(7).fill(100));
  });

  it('embeds the data so that no item id can end the script element', async () => {
    // Act
    const html = renderReportPage(await readReportData(warehouse, RUN.runId));

    // Assess
    expect(html).not.toContain(HOSTILE);
    expect(html.match(/<\/script>/g)).toHaveLength(2);
    const json = /<script type="application\/json" id="report-data">([\s\S]*?)<\/script>/.exec(html)![1]!;
    expect(JSON.parse(json).items.map((i: { id: string }) => i.id)).toContain(HOSTILE);
  });

  it('shows a cleanup failure recorded for the run', async () => {
    // Prepare
    await warehouse.execute('UPDATE FORECAST_RUNS SET CLEANUP_ERROR = ? WHERE RUN_ID = ?', ['Delete-Datasets: ResourceInUseException: in use', RUN.runId]);

    // Act
    const data = await readReportData(warehouse, RUN.runId);
    const html = renderReportPage(data);

    // Assess
    expect(data.run.cleanupError).toBe('Delete-Datasets: ResourceInUseException: in use');
    expect(html).toContain('cleanup failed <b>Delete-Datasets: ResourceInUseException: in use</b>');
  });

  it('shows the quarantined items with their reasons and the warnings of the run', async () => {
    // Prepare
    await replaceDataIssues(warehouse, RUN, [
      { issue: 'QUARANTINED', itemId: 'lonely<b>', dimensions: null, reason: 'a single data point (2025-01-30T00:00:00.000Z)' },
      { issue: 'QUARANTINED', itemId: 'empty', dimensions: '{"store":"s1"}', reason: 'all 3 target values are negative or missing' },
      { issue: 'STALE_DATA', itemId: null, dimensions: null, reason: 'the target data ends 2025-01-28' },
    ]);

    // Act
    const data = await readReportData(warehouse, RUN.runId);
    const html = renderReportPage(data);

    // Assess
    expect(data.run.dataIssues.map((i) => i.itemId)).toEqual(['empty', 'lonely<b>', null]);
    expect(html).toContain('quarantined <b>2 items</b> left out of the run');
    expect(html).toContain('<b>&#34;empty&#34; {&#34;store&#34;:&#34;s1&#34;}</b>: all 3 target values are negative or missing');
    expect(html).toContain('&#34;lonely&#60;b&#62;&#34;');
    expect(html).toContain('warning <b>the target data ends 2025-01-28</b>');
    await replaceDataIssues(warehouse, RUN, []);
  });

  it('keys series by item and dimensions: one chart per item × store, its history, forecasts and actuals', async () => {
    // Prepare: a run whose target carries a STORE dimension
    const run = { dataName: 'dims', runId: 'dims_2025_02_01' };
    await warehouse.execute('CREATE TABLE STORE_SALES (DATASET_NAME VARCHAR, ITEM_ID VARCHAR, STORE VARCHAR, TIMESTAMP TIMESTAMP, TARGET_VALUE DOUBLE)');
    await warehouse.insertRows(
      'STORE_SALES',
      ['DATASET_NAME', 'ITEM_ID', 'STORE', 'TIMESTAMP', 'TARGET_VALUE'],
      ['s1', 's2'].flatMap((store, k) => Array.from({ length: 40 }, (_, d) => ['dims', 'a', store, new Date(START + (d - 30) * DAY), k + 1])),
    );
    const forecasts: ForecastRow[] = ['s1', 's2'].flatMap((store, k) =>
      Array.from({ length: 7 }, (_, h) => ({ model: 'ETS', predictorName: 'dims_ETS', itemId: 'a', dimensions: JSON.stringify({ store }), date: new Date(START + h * DAY), forecastType: 'p50', value: 10 * (k + 1) })),
    );
    await insertForecastRows(warehouse, run, forecasts);
    await writeRunStatus(warehouse, run, { dateCreate: '20250201', status: 'SUCCEEDED', reason: null, failedModels: [], forecastRows: forecasts.length, metricRows: 0 });
    const query = (op: string) => `SELECT TIMESTAMP, ITEM_ID, STORE, TARGET_VALUE FROM STORE_SALES WHERE DATASET_NAME = :DATA_NAME AND TIMESTAMP ${op} CAST(:FORECAST_START AS TIMESTAMP) ORDER BY ITEM_ID, STORE, TIMESTAMP`;

    // Act
    const data = await readReportData(warehouse, run.runId, { queries: { target: query('<'), validation: query('>='), related: undefined } });

    // Assess
    expect(data.items.map((i) => i.id)).toEqual(['a (store s2)', 'a (store s1)']);
    expect(data.run.itemsTotal).toBe(2);
    const s1 = data.items.find((i) => i.id === 'a (store s1)')!;
    expect(s1.history.v.every((v) => v === 1)).toBe(true);
    expect(s1.actuals.v).toEqual(Array(7).fill(1));
    expect(s1.forecasts.ETS!.values.p50).toEqual(Array(7).fill(10));
  });

  it('throws a clear error for a run the warehouse does not know', async () => {
    await expect(readReportData(warehouse, 'nope_2025_01_01')).rejects.toThrow('The warehouse has no run nope_2025_01_01');
  });
});
