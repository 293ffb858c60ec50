/**
 * `forecast-pipeline run` end to end on a small dataset: the real parse handler (SQS event), the
 * real state machine and step handlers, the built-in engine, DuckDB and a folder — then a second
 * run of the same message, the report and the resources commands.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main, type CliIo } from '../../local/cli';
import { openDuckDbWarehouse } from '../../shared/adapters/duckdb-warehouse';

const MESSAGE = {
  param: {
    DataName: 'e2e_small',
    ForecastHorizon: 14,
    NumberOfBacktestWindows: 1,
    PerformDelete: true,
    dateCreate: '20250201',
    ForecastFrequency: 'D',
    Models: ['ETS', 'NPTS'],
    ForecastTypes: ['0.10', '0.50', '0.90'],
  },
};
const ITEMS = 3;
const RUN_ID = 'e2e_small_2025_02_01';

function capture(): CliIo & { text: () => string } {
  const chunks: string[] = [];
  const sink = { write: (t: string) => chunks.push(t), isTTY: false };
  return { out: sink, err: sink, env: process.env, text: () => chunks.join('') };
}

async function count(root: string, sql: string): Promise<number> {
  const warehouse = await openDuckDbWarehouse({ path: join(root, 'warehouse.duckdb') });
  try {
    for await (const row of warehouse.query(sql, [RUN_ID])) return Number(row.N);
    return 0;
  } finally {
    await warehouse.close();
  }
}

describe('forecast-pipeline run: end to end on embedded defaults', () => {
  let root: string;
  let first: { code: number; output: string };

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'local-run-'));
    const io = capture();
    const code = await main(['run', '--message', JSON.stringify(MESSAGE), '--items', String(ITEMS), '--root', root, '--workers', '2'], io);
    first = { code, output: io.text() };
  }, 240_000);

  afterAll(async () => {
    if (root) await rm(root, { recursive: true, force: true });
  });

  it('exits 0, follows every state and prints the summary with both models and where the results are', () => {
    // Assess
    expect(first.output).toContain(`seeded demo dataset e2e_small: ${ITEMS} items`);
    for (const state of ['Create-Dataset', 'Create-Import-Jobs', 'Create-Predictors', 'Create-Forecasts', 'Notify', 'Delete-Datasets']) {
      expect(first.output).toContain(`✓ ${state}`);
    }
    expect(first.output).toContain(`execution ${RUN_ID} SUCCEEDED`);
    expect(first.output).toMatch(/^ETS\s+3\s+126\s/m);
    expect(first.output).toMatch(/^NPTS\s+3\s+126\s/m);
    expect(first.output).toContain(join(root, 'warehouse.duckdb'));
    expect(first.code).toBe(0);
  });

  it('writes every model forecast into DuckDB: items × horizon × forecast types each', async () => {
    // Act
    const rows = await count(root, `SELECT COUNT(*) AS N FROM FORECAST_RESULTS WHERE RUN_ID = ?`);
    const models = await count(root, `SELECT COUNT(DISTINCT MODEL) AS N FROM FORECAST_RESULTS WHERE RUN_ID = ?`);
    const status = await count(root, `SELECT COUNT(*) AS N FROM FORECAST_RUNS WHERE RUN_ID = ? AND STATUS = 'SUCCEEDED'`);

    // Assess
    expect(models).toBe(2);
    expect(rows).toBe(2 * ITEMS * 14 * 3);
    expect(status).toBe(1);
  });

  it('writes the self-contained report of the run', async () => {
    // Act
    const html = await readFile(join(root, 'reports', `${RUN_ID}.html`), 'utf8');

    // Assess
    expect(html).toContain('<script type="application/json" id="report-data">');
    expect(html).toContain('"models":["ETS","NPTS"]');
    expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+href=|https?:\/\/(?!www\.w3\.org)/);
  });

  it('a second run of the same message exits 0, runs nothing and duplicates no rows', async () => {
    // Prepare
    const before = await count(root, `SELECT COUNT(*) AS N FROM FORECAST_RESULTS WHERE RUN_ID = ?`);
    const io = capture();

    // Act
    const code = await main(['run', '--message', JSON.stringify(MESSAGE), '--items', String(ITEMS), '--root', root], io);

    // Assess
    expect(code).toBe(0);
    expect(io.text()).toMatch(new RegExp(`execution ${RUN_ID} already SUCCEEDED at .* showing its results`));
    expect(io.text()).not.toContain('▶ Create-Dataset');
    expect(io.text()).not.toContain('seeded demo dataset');
    expect(await count(root, `SELECT COUNT(*) AS N FROM FORECAST_RESULTS WHERE RUN_ID = ?`)).toBe(before);
  }, 120_000);

  it('leaves no engine resource behind (PerformDelete) and `resources` says so', async () => {
    // Prepare
    const io = capture();

    // Act
    const code = await main(['resources', '--root', root], io);

    // Assess
    expect(code).toBe(0);
    expect(io.text()).toContain('holds no resources');
  });

  it('`report` rewrites the report of the latest run', async () => {
    // Prepare
    const io = capture();
    const output = join(root, 'again.html');

    // Act
    const code = await main(['report', '--root', root, '--output', output], io);

    // Assess
    expect(code).toBe(0);
    expect(io.text()).toContain(`report of run ${RUN_ID} (SUCCEEDED; 2 models, ${ITEMS} items)`);
    expect(existsSync(output)).toBe(true);
  });

  it('rejects an invalid message through parse, starts nothing and exits 1', async () => {
    // Prepare
    const io = capture();
    const bad = { param: { ...MESSAGE.param, DataName: 'bad name; DROP TABLE x', ForecastHorizon: -3 } };

    // Act
    const code = await main(['run', '--message', JSON.stringify(bad), '--root', root], io);

    // Assess
    expect(code).toBe(1);
    expect(io.text()).toContain('parse rejected the message');
    expect(io.text()).toContain('DataName');
    expect(io.text()).toContain('ForecastHorizon');
    expect(io.text()).toMatch(/kept with its reasons under .*rejected/);
    expect(io.text()).toContain('No execution was started.');
  });

  it('runs a corrected message as attempt 2 of the run: its own execution, results replaced exactly once, both attempts kept', async () => {
    // Prepare
    const io = capture();
    const changed = { param: { ...MESSAGE.param, ForecastTypes: ['0.50'] } };

    // Act
    const code = await main(['run', '--message', JSON.stringify(changed), '--root', root], io);

    // Assess
    expect(code).toBe(0);
    expect(io.text()).toContain(`Run ${RUN_ID} (attempt ${RUN_ID}_a2): execution SUCCEEDED`);
    expect(await count(root, `SELECT COUNT(*) AS N FROM FORECAST_RESULTS WHERE RUN_ID = ?`)).toBe(2 * ITEMS * 14 * 1);
    expect(await count(root, `SELECT COUNT(*) AS N FROM FORECAST_RUNS WHERE RUN_ID = ? AND STATUS = 'SUCCEEDED' AND ATTEMPT = 2`)).toBe(1);
    expect(await count(root, `SELECT COUNT(*) AS N FROM FORECAST_RUN_ATTEMPTS WHERE RUN_ID = ? AND STATUS = 'SUCCEEDED'`)).toBe(2);
  }, 180_000);
});

describe('forecast-pipeline: command line', () => {
  it('prints --help for every command and exits 0', async () => {
    for (const command of ['run', 'forecast', 'report', 'resources']) {
      // Prepare
      const io = capture();

      // Act
      const code = await main([command, '--help'], io);

      // Assess
      expect(code).toBe(0);
      expect(io.text()).toContain(`Usage: forecast-pipeline ${command}`);
    }
  });

  it('exits 2 with the usage on an unknown command or option', async () => {
    // Prepare
    const unknown = capture();
    const badOption = capture();

    // Act
    const a = await main(['deploy'], unknown);
    const b = await main(['run', '--itmes', '4'], badOption);

    // Assess
    expect([a, b]).toEqual([2, 2]);
    expect(unknown.text()).toContain('unknown command "deploy"');
    expect(badOption.text()).toContain("Unknown option '--itmes'");
  });
});
