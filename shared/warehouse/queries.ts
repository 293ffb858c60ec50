/**
 * The three input queries (target, related, validation). They come from deployment configuration
 * (TARGET_QUERY, RELATED_QUERY, VALIDATION_QUERY), never from the message; message values reach
 * them only as named parameters bound with `?`:
 *
 *   :DATA_NAME       the message's DataName
 *   :DATE_CREATE     the message's dateCreate, `YYYYMMDD`
 *   :FORECAST_START  dateCreate as `YYYY-MM-DD 00:00:00` (cast it: `CAST(:FORECAST_START AS TIMESTAMP)`)
 *   :RUN_ID          the run id (execution name)
 *   :FREQUENCY       the message's ForecastFrequency
 *
 * Result columns: TIMESTAMP, ITEM_ID, TARGET_VALUE (target and validation) plus any extra columns
 * (dimensions, related features); rows ordered by ITEM_ID, TIMESTAMP. An empty RELATED_QUERY
 * (set to `-`) means no related dataset.
 */
import { optionalEnv } from '../env';
import type { SqlValue } from '../ports/warehouse';
import { DEFAULT_TABLES, type TableNames } from './layout';
import { bindNamed } from './sql';

export interface InputQueries {
  readonly target: string;
  /** Undefined: the deployment has no related data. */
  readonly related: string | undefined;
  /** Undefined: no validation actuals. */
  readonly validation: string | undefined;
}

/** The default queries against the default input layout. */
export function defaultQueries(tables: TableNames = DEFAULT_TABLES): InputQueries {
  return {
    target: `SELECT TIMESTAMP, ITEM_ID, TARGET_VALUE FROM ${tables.inputTarget}
WHERE DATASET_NAME = :DATA_NAME AND TIMESTAMP < CAST(:FORECAST_START AS TIMESTAMP)
ORDER BY ITEM_ID, TIMESTAMP`,
    related: `SELECT TIMESTAMP, ITEM_ID, PRICE, PROMOTION FROM ${tables.inputRelated}
WHERE DATASET_NAME = :DATA_NAME
ORDER BY ITEM_ID, TIMESTAMP`,
    validation: `SELECT TIMESTAMP, ITEM_ID, TARGET_VALUE FROM ${tables.inputTarget}
WHERE DATASET_NAME = :DATA_NAME AND TIMESTAMP >= CAST(:FORECAST_START AS TIMESTAMP)
ORDER BY ITEM_ID, TIMESTAMP`,
  };
}

const NONE = '-';

/** Queries from TARGET_QUERY / RELATED_QUERY / VALIDATION_QUERY, each defaulting to `defaultQueries`; `-` switches one off. */
export function queriesFromEnv(env: NodeJS.ProcessEnv = process.env, tables: TableNames = DEFAULT_TABLES): InputQueries {
  const defaults = defaultQueries(tables);
  const pick = (name: string, fallback: string) => {
    const value = optionalEnv(name, fallback, env).trim();
    return value === NONE ? undefined : value;
  };
  return {
    target: optionalEnv('TARGET_QUERY', defaults.target, env),
    related: pick('RELATED_QUERY', defaults.related!),
    validation: pick('VALIDATION_QUERY', defaults.validation!),
  };
}

export interface QueryParameters {
  readonly dataName: string;
  readonly dateCreate: string;
  readonly runId: string;
  readonly frequency: string;
}

/** A configured query with its named parameters turned into `?` binds. */
export function bindQuery(sql: string, p: QueryParameters): { sql: string; binds: SqlValue[] } {
  const start = `${p.dateCreate.slice(0, 4)}-${p.dateCreate.slice(4, 6)}-${p.dateCreate.slice(6, 8)} 00:00:00`;
  return bindNamed(sql, {
    DATA_NAME: p.dataName,
    DATE_CREATE: p.dateCreate,
    FORECAST_START: start,
    RUN_ID: p.runId,
    FREQUENCY: p.frequency,
  });
}
