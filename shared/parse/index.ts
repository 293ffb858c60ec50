/**
 * The parse step ("S3Lambda"): message → warehouse queries → cleaned CSVs in the store →
 * PipelineInput → start the state machine. Invalid messages and invalid data never start an
 * execution and leave no files behind.
 */
import { InvalidInput, describeError } from '../errors';
import { optionalEnv, choiceEnv } from '../env';
import { parseFrequency } from '../frequency';
import { parseConsoleEvent, parseMessageBody, type Message, type MessageParam } from '../message';
import { executionName } from '../names';
import { logger } from '../observability';
import type { Dependencies } from '../runtime';
import type { PipelineInput } from '../state';
import { TRANSFORM_NAMES, type TransformName } from '../transform';
import { dataIssuesTableDdl, tableNamesFromEnv } from '../warehouse/layout';
import { replaceDataIssues, type DataIssueRow } from '../warehouse/writers';
import { bindQuery, queriesFromEnv, type InputQueries } from '../warehouse/queries';
import type { Attribute } from '../state';
import { extractToCsv, type Extracted } from './extract';
import { buildPipelineInput, checkFreshness, runPrefix, timestampFormatFor } from './parameters';
import { seriesKey } from './cleaning';
import { checkCompatible, parseSchemaOverride } from './schema';

export { buildPipelineInput, checkHorizon, runPrefix, timestampFormatFor } from './parameters';
export { RowCleaner, fillSeries, toNumber } from './cleaning';
export { inferSchema, parseSchemaOverride } from './schema';
export { extractToCsv } from './extract';

/** Deployment configuration of the parse step (environment, read once per container). */
export interface ParseConfig {
  readonly queries: InputQueries;
  readonly transform: TransformName;
  readonly targetSchema?: readonly Attribute[] | undefined;
  readonly relatedSchema?: readonly Attribute[] | undefined;
}

export function parseConfigFromEnv(env: NodeJS.ProcessEnv = process.env): ParseConfig {
  return {
    queries: queriesFromEnv(env, tableNamesFromEnv(env)),
    transform: choiceEnv('VALUE_TRANSFORM', TRANSFORM_NAMES, 'log1p', env),
    targetSchema: parseSchemaOverride('TARGET_SCHEMA', optionalEnv('TARGET_SCHEMA', '', env)),
    relatedSchema: parseSchemaOverride('RELATED_SCHEMA', optionalEnv('RELATED_SCHEMA', '', env)),
  };
}

let cachedConfig: ParseConfig | undefined;

export interface ParseSummary {
  readonly runId: string;
  readonly executionArn: string;
  readonly alreadyStarted: boolean;
  readonly rows: { readonly target: number; readonly related: number; readonly validation: number };
  /** Target series left out of the run (recorded in the data-issues table with their reasons). */
  readonly quarantined: number;
  /** Run-level warnings recorded in the data-issues table (stale data). */
  readonly warnings: readonly string[];
}

/** One validated message end to end. `config` defaults to the environment's. */
export async function startPipeline(message: Message, deps: Dependencies, config: ParseConfig = (cachedConfig ??= parseConfigFromEnv())): Promise<ParseSummary> {
  const { input, rows, issues } = await prepareRun(message.param, deps, config);
  await recordDataIssues(deps, input, issues);
  const started = await deps.workflow.startExecution(input.run.runId, input);
  return {
    runId: input.run.runId,
    executionArn: started.executionArn,
    alreadyStarted: started.alreadyStarted,
    rows,
    quarantined: issues.filter((i) => i.issue === 'QUARANTINED').length,
    warnings: issues.filter((i) => i.issue !== 'QUARANTINED').map((i) => i.reason),
  };
}

/**
 * Writes the run's data issues (replacing earlier ones of the same run) before the execution
 * starts, so the summary, the report and a SQL user see why an item is missing from the forecasts.
 */
async function recordDataIssues(deps: Dependencies, input: PipelineInput, issues: readonly DataIssueRow[]): Promise<void> {
  if (issues.length > 0) {
    const quarantined = issues.filter((i) => i.issue === 'QUARANTINED');
    logger.warn('Data issues recorded for the run', {
      runId: input.run.runId,
      quarantined: quarantined.length,
      firstQuarantined: quarantined.slice(0, 5).map((q) => ({ item: q.itemId, dimensions: q.dimensions, reason: q.reason })),
      warnings: issues.filter((i) => i.issue !== 'QUARANTINED').map((i) => i.reason),
    });
  }
  const warehouse = await deps.warehouse();
  const tables = tableNamesFromEnv();
  await warehouse.execute(dataIssuesTableDdl(tables));
  await warehouse.transaction((tx) => replaceDataIssues(tx, { dataName: input.run.dataName, runId: input.run.runId }, issues, tables));
}

export interface PreparedRun {
  readonly input: PipelineInput;
  readonly rows: ParseSummary['rows'];
  /** Quarantined target series and run-level warnings, for the data-issues table. */
  readonly issues: readonly DataIssueRow[];
}

/**
 * Queries, cleans and writes the CSVs, then builds the PipelineInput. When the data is rejected
 * (InvalidInput) the files of this run are removed, so a rejected message leaves nothing behind.
 * Other errors (a warehouse outage) leave them: the retry rewrites them, and a running execution
 * of a redelivered message may be reading them.
 */
export async function prepareRun(param: MessageParam, deps: Dependencies, config: ParseConfig): Promise<PreparedRun> {
  const runId = executionName(param.DataName, param.dateCreate);
  const prefix = runPrefix(deps.settings.bucket, param);
  const frequency = parseFrequency(param.ForecastFrequency);
  const timestampFormat = timestampFormatFor(param);
  const parameters = { dataName: param.DataName, dateCreate: param.dateCreate, runId, frequency: frequency.text };
  const warehouse = await deps.warehouse();
  const written: string[] = [];
  // log1p cannot carry values ≤ −1: a series that may be negative runs untransformed.
  const transform: TransformName = param.AllowNegative ? 'none' : config.transform;
  const common = { frequency, timestampFormat, transform, keepNegatives: param.AllowNegative };
  try {
    const target = await extractToCsv(warehouse, deps.store, {
      ...common,
      kind: 'TARGET',
      ...bindQuery(config.queries.target, parameters),
      uri: `${prefix}target.csv`,
      schemaOverride: config.targetSchema,
    });
    if (!target) throw new InvalidInput(`TARGET_QUERY returned no rows for DataName ${JSON.stringify(param.DataName)} and dateCreate ${param.dateCreate}`, ['TARGET_QUERY: no rows']);
    written.push(target.uri);
    // The related and validation rows of a quarantined series are left out with it.
    const quarantined = target.stats.quarantined;
    const exclude = new Set(quarantined.map((q) => seriesKey(q.item, q.dimensions === null ? [] : Object.values(q.dimensions))));

    let related: Extracted | undefined;
    if (config.queries.related) {
      related = await extractToCsv(warehouse, deps.store, {
        ...common,
        transform: 'none',
        exclude,
        kind: 'RELATED',
        ...bindQuery(config.queries.related, parameters),
        uri: `${prefix}related.csv`,
        schemaOverride: config.relatedSchema,
        checkSchema: (schema) => checkCompatible(target.schema, schema),
      });
      if (related) written.push(related.uri);
    }

    let validation: Extracted | undefined;
    if (config.queries.validation) {
      validation = await extractToCsv(warehouse, deps.store, {
        ...common,
        exclude,
        kind: 'VALIDATION',
        ...bindQuery(config.queries.validation, parameters),
        uri: `${prefix}validate.csv`,
        schemaOverride: config.targetSchema,
        checkSchema: (schema) => checkCompatible(target.schema, schema),
      });
      if (validation) written.push(validation.uri);
    }

    const input = buildPipelineInput({ param, bucket: deps.settings.bucket, transform, target, related, validation });
    const stale = checkFreshness(param, target);
    const issues: DataIssueRow[] = [
      ...quarantined.map((q): DataIssueRow => ({ issue: 'QUARANTINED', itemId: q.item, dimensions: q.dimensions === null ? null : JSON.stringify(q.dimensions), reason: q.reason })),
      ...(stale ? [{ issue: 'STALE_DATA', itemId: null, dimensions: null, reason: stale } as const] : []),
    ];
    return { input, rows: { target: target.stats.rows, related: related?.stats.rows ?? 0, validation: validation?.stats.rows ?? 0 }, issues };
  } catch (error) {
    if (error instanceof InvalidInput) {
      await Promise.all(written.map((uri) => deps.store.delete(uri).catch(() => undefined)));
    }
    throw error;
  }
}

interface SqsRecordLike {
  readonly messageId?: unknown;
  readonly body?: unknown;
}

export interface SqsBatchResponse {
  batchItemFailures: { itemIdentifier: string }[];
  /** Started (or already running) runs of the records that succeeded. */
  runs: ParseSummary[];
}

function isSqsEvent(event: unknown): event is { Records: SqsRecordLike[] } {
  return event !== null && typeof event === 'object' && Array.isArray((event as { Records?: unknown }).Records);
}

/**
 * Entry point of the parse Lambda.
 * - SQS event (`Records[].body` = `{"param": …}`): each record separately; a failed record is reported
 *   in `batchItemFailures` (SQS redelivers it, then moves it to the DLQ after the redrive count).
 * - Console event (`{"body": {"param": …}}`, `{"body": "<json>"}` or `{"param": …}`): returns the
 *   summary; an invalid message throws InvalidInput.
 */
export async function startPipelineFromEvent(event: unknown, deps: Dependencies, config?: ParseConfig): Promise<ParseSummary | SqsBatchResponse> {
  if (!isSqsEvent(event)) return startPipeline(parseConsoleEvent(event), deps, config);
  const response: SqsBatchResponse = { batchItemFailures: [], runs: [] };
  for (const record of event.Records) {
    const id = typeof record.messageId === 'string' ? record.messageId : '';
    try {
      if (typeof record.body !== 'string') throw new InvalidInput('SQS record has no string body', ['body: missing']);
      response.runs.push(await startPipeline(parseMessageBody(record.body), deps, config));
    } catch (error) {
      console.error(JSON.stringify({ level: 'ERROR', message: 'parse failed for SQS record', messageId: id, error: describeError(error) }));
      response.batchItemFailures.push({ itemIdentifier: id });
    }
  }
  return response;
}
