/**
 * What the fault matrix checks after each scenario: the warehouse rows of the run (exactly once,
 * none missing), the run status the warehouse recorded, and the engine resources left behind.
 * Also the small dataset the scenarios run on and the tally the suite prints.
 */
import { listResources } from '../../engine/resources';
import type { ForecastPort, Warehouse } from '../../shared/ports';
import { DEFAULT_TABLES, writeTargetInputRows, type TargetInputRow } from '../../shared/warehouse/layout';

/** A small dataset: `items` daily series of `days` before `forecastStart` (+ `after` days of actuals after it). */
export function smallDataset(
  dataName: string,
  options: { items: number; days: number; forecastStart: Date; after?: number },
): TargetInputRow[] {
  const rows: TargetInputRow[] = [];
  const start = options.forecastStart.getTime() - options.days * 86_400_000;
  for (let i = 0; i < options.items; i++) {
    const level = 20 + 7 * i;
    for (let d = 0; d < options.days + (options.after ?? 0); d++) {
      const weekly = [1, 0.9, 0.95, 1, 1.2, 1.5, 1.3][(d + i) % 7]!;
      // Deterministic wiggle, no randomness: the same rows on every machine.
      const wiggle = ((d * 7919 + i * 104729) % 13) / 13 - 0.5;
      rows.push({ dataName, itemId: `item_${i}`, timestamp: new Date(start + d * 86_400_000), value: Math.round(level * weekly + 3 * wiggle) });
    }
  }
  return rows;
}

export async function seedSmallDataset(
  warehouse: Warehouse,
  dataName: string,
  options: { items: number; days: number; forecastStart: Date; after?: number },
): Promise<void> {
  await writeTargetInputRows(warehouse, smallDataset(dataName, options));
}

export interface RunRows {
  /** Forecast rows of the run, and how many distinct (model, item, date, type) keys they hold. */
  readonly forecastRows: number;
  readonly distinctForecastKeys: number;
  readonly metricRows: number;
  readonly distinctMetricKeys: number;
  /** Models that have forecast rows. */
  readonly modelsWithRows: readonly string[];
  /** Status rows of the run (must be exactly one once the run ended). */
  readonly statusRows: readonly { STATUS: string; REASON: string | null; FAILED_MODELS: string | null }[];
  readonly forecastAvailable: boolean | undefined;
}

async function all(warehouse: Warehouse, sql: string, binds: readonly (string | number)[]): Promise<Record<string, unknown>[]> {
  const rows: Record<string, unknown>[] = [];
  for await (const row of warehouse.query(sql, binds)) rows.push(row);
  return rows;
}

export async function runRows(warehouse: Warehouse, dataName: string, runId: string): Promise<RunRows> {
  const t = DEFAULT_TABLES;
  const [forecasts] = await all(
    warehouse,
    `SELECT COUNT(*) AS N, COUNT(DISTINCT (MODEL, ITEM_ID, COALESCE(DIMENSIONS, ''), FORECAST_DATE, FORECAST_TYPE)) AS D FROM ${t.forecasts} WHERE DATASET_NAME = ? AND RUN_ID = ?`,
    [dataName, runId],
  );
  const [metrics] = await all(
    warehouse,
    `SELECT COUNT(*) AS N, COUNT(DISTINCT (MODEL, SOURCE, METRIC, COALESCE(FORECAST_TYPE, ''))) AS D FROM ${t.metrics} WHERE DATASET_NAME = ? AND RUN_ID = ?`,
    [dataName, runId],
  );
  const models = await all(warehouse, `SELECT DISTINCT MODEL FROM ${t.forecasts} WHERE DATASET_NAME = ? AND RUN_ID = ? ORDER BY MODEL`, [dataName, runId]);
  const statusRows = await all(warehouse, `SELECT STATUS, REASON, FAILED_MODELS FROM ${t.runs} WHERE RUN_ID = ?`, [runId]);
  const available = await all(warehouse, `SELECT FORECAST_AVAILABLE FROM ${t.parameters} WHERE DATASET_NAME = ?`, [dataName]);
  return {
    forecastRows: Number(forecasts?.N ?? 0),
    distinctForecastKeys: Number(forecasts?.D ?? 0),
    metricRows: Number(metrics?.N ?? 0),
    distinctMetricKeys: Number(metrics?.D ?? 0),
    modelsWithRows: models.map((m) => String(m.MODEL)),
    statusRows: statusRows as unknown as RunRows['statusRows'],
    forecastAvailable: available.length === 0 ? undefined : Boolean(available[0]!.FORECAST_AVAILABLE),
  };
}

/** Every attempt the warehouse recorded for a run (FORECAST_RUN_ATTEMPTS), oldest first. */
export async function attemptRows(warehouse: Warehouse, runId: string): Promise<{ ATTEMPT: number; EXECUTION_NAME: string; STATUS: string }[]> {
  const rows = await all(warehouse, `SELECT ATTEMPT, EXECUTION_NAME, STATUS FROM ${DEFAULT_TABLES.attempts} WHERE RUN_ID = ? ORDER BY ATTEMPT`, [runId]);
  return rows.map((r) => ({ ATTEMPT: Number(r.ATTEMPT), EXECUTION_NAME: String(r.EXECUTION_NAME), STATUS: String(r.STATUS) }));
}

export interface EngineResource {
  readonly type: string;
  readonly name: string;
  readonly status: string;
}

/**
 * Every resource the Forecast backend holds whose name starts with `dataName` — the same list
 * `forecast-pipeline resources` prints (engine/resources.ts, List and Describe only).
 */
export async function engineResources(forecast: ForecastPort, dataName: string): Promise<EngineResource[]> {
  return (await listResources(forecast)).filter((r) => r.name.startsWith(dataName)).map(({ type, name, status }) => ({ type, name, status }));
}

export interface ScenarioOutcome {
  readonly scenario: string;
  readonly expected: string;
  readonly observed: string;
  readonly asExpected: boolean;
  readonly rowsLost: number;
  readonly rowsDuplicated: number;
  readonly resourcesLeft: number;
  readonly seconds: number;
}

/** Outcomes of the fault matrix, and the one summary line the lead quotes. */
export class Tally {
  readonly outcomes: ScenarioOutcome[] = [];

  add(outcome: ScenarioOutcome): void {
    this.outcomes.push(outcome);
  }

  summary(): string {
    const sum = (f: (o: ScenarioOutcome) => number) => this.outcomes.reduce((s, o) => s + f(o), 0);
    return (
      `fault matrix: ${this.outcomes.length} scenarios run, ${this.outcomes.filter((o) => o.asExpected).length} ended as expected, ` +
      `rows lost ${sum((o) => o.rowsLost)}, rows duplicated ${sum((o) => o.rowsDuplicated)}, resources left ${sum((o) => o.resourcesLeft)}`
    );
  }

  table(): string {
    return this.outcomes
      .map((o) => `${o.asExpected ? 'ok  ' : 'FAIL'} ${o.scenario.padEnd(58)} ${o.observed.padEnd(40)} lost ${o.rowsLost} dup ${o.rowsDuplicated} left ${o.resourcesLeft} ${o.seconds.toFixed(1)}s`)
      .join('\n');
  }
}
