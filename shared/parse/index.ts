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
import type { StartedExecution } from '../ports/workflow';
import { extractToCsv, type Extracted } from './extract';
import { decideAttempt, FORCE_NEW_ATTEMPT_ATTRIBUTE, messageHash, type Delivery } from './attempts';
import { reconcileAttempts, recordAttemptStarted } from './attempt-records';
import { buildPipelineInput, checkFreshness, runPrefix, timestampFormatFor, type AttemptIdentity } from './parameters';
import { seriesKey } from './cleaning';
import { checkCompatible, parseSchemaOverride } from './schema';

export { buildPipelineInput, checkHorizon, runPrefix, timestampFormatFor, type AttemptIdentity } from './parameters';
export { decideAttempt, FORCE_NEW_ATTEMPT_ATTRIBUTE, listAttempts, messageHash, type AttemptDecision, type Delivery } from './attempts';
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
  /** Which attempt of the run the message belongs to, and its execution name. */
  readonly attempt: number;
  readonly executionName: string;
  readonly executionArn: string;
  readonly alreadyStarted: boolean;
  /** Rows extracted for a new attempt; zero when the message belonged to an existing one (nothing read). */
  readonly rows: { readonly target: number; readonly related: number; readonly validation: number };
  /** Target series left out of the run (recorded in the data-issues table with their reasons). */
  readonly quarantined: number;
  /** Run-level warnings recorded in the data-issues table (stale data). */
  readonly warnings: readonly string[];
}

const NO_ROWS = { target: 0, related: 0, validation: 0 } as const;
/** Starts of a new attempt that lost a race for its name to another parse: decide again, this often. */
const ATTEMPT_RACES = 3;

/**
 * One validated message end to end: decide which attempt of the run it is (shared/parse/attempts.ts)
 * *before* touching any file, then either answer with the existing attempt (a redelivery: no data is
 * read and no file written) or extract the data into the new attempt's prefix and start its execution.
 * Either way the run's attempt rows are brought in line with the workflow first (an earlier attempt
 * that ended ABORTED or TIMED_OUT gets that status), and a started attempt gets its RUNNING row
 * (shared/parse/attempt-records.ts). `config` defaults to the environment's.
 */
export async function startPipeline(
  message: Message,
  deps: Dependencies,
  config: ParseConfig = (cachedConfig ??= parseConfigFromEnv()),
  delivery: Omit<Delivery, 'messageHash'> = {},
): Promise<ParseSummary> {
  const runId = executionName(message.param.DataName, message.param.dateCreate);
  const request: Delivery = { ...delivery, messageHash: messageHash(message.param) };
  const run = { dataName: message.param.DataName, runId, dateCreate: message.param.dateCreate };
  for (let race = 0; ; race++) {
    const decision = await decideAttempt(deps.workflow, runId, request);
    await reconcileAttempts(deps, run, decision.attempts);
    if (decision.kind === 'existing') {
      // Started again with its own input: Step Functions answers "already started", the local
      // workflow also resumes an execution whose process died.
      const { execution } = decision;
      const started = await deps.workflow.startExecution(execution.name, execution.input);
      return { runId, attempt: decision.attempt, executionName: execution.name, executionArn: started.executionArn, alreadyStarted: true, rows: NO_ROWS, quarantined: 0, warnings: [] };
    }
    const identity = { attempt: decision.attempt, messageHash: request.messageHash, messageId: request.messageId };
    const { input, rows, issues } = await prepareRun(message.param, deps, config, identity);
    await recordDataIssues(deps, input, issues);
    let started: StartedExecution;
    try {
      started = await deps.workflow.startExecution(decision.name, input);
    } catch (error) {
      // Another parse started this attempt between our decision and our start: decide again.
      if ((error as { name?: string }).name !== 'ExecutionAlreadyExists' || race + 1 >= ATTEMPT_RACES) throw error;
      continue;
    }
    // Should this write fail, the batch failure's redelivery is this attempt and writes it then.
    await recordAttemptStarted(deps, run, decision.attempt, decision.name, request.messageHash);
    return {
      runId,
      attempt: decision.attempt,
      executionName: decision.name,
      executionArn: started.executionArn,
      alreadyStarted: started.alreadyStarted,
      rows,
      quarantined: issues.filter((i) => i.issue === 'QUARANTINED').length,
      warnings: issues.filter((i) => i.issue !== 'QUARANTINED').map((i) => i.reason),
    };
  }
}

/**
 * Writes the run's data issues (replacing those of its earlier attempts) before the execution
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
export async function prepareRun(param: MessageParam, deps: Dependencies, config: ParseConfig, attempt: AttemptIdentity): Promise<PreparedRun> {
  const runId = executionName(param.DataName, param.dateCreate);
  const prefix = runPrefix(deps.settings.bucket, param, attempt.attempt);
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

    const input = buildPipelineInput({ param, attempt, bucket: deps.settings.bucket, transform, target, related, validation });
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
  readonly attributes?: { readonly MessageGroupId?: unknown } | undefined;
  readonly messageAttributes?: Readonly<Record<string, { readonly stringValue?: unknown } | undefined>> | undefined;
}


function deliveryOf(record: SqsRecordLike, messageId: string): Omit<Delivery, 'messageHash'> {
  const force = record.messageAttributes?.[FORCE_NEW_ATTEMPT_ATTRIBUTE]?.stringValue;
  return { messageId: messageId || undefined, forceNewAttempt: typeof force === 'string' && force.toLowerCase() === 'true' };
}

export interface SqsBatchResponse {
  batchItemFailures: { itemIdentifier: string }[];
  /** Started (or already running) runs of the records that succeeded. */
  runs: ParseSummary[];
  /** Records that can never be accepted: stored with their reasons (the DLQ) and acknowledged. */
  rejected: { messageId: string; reasons: readonly string[] }[];
}

function isSqsEvent(event: unknown): event is { Records: SqsRecordLike[] } {
  return event !== null && typeof event === 'object' && Array.isArray((event as { Records?: unknown }).Records);
}

/**
 * Entry point of the parse Lambda.
 * - SQS event (`Records[].body` = `{"param": …}`): each record separately. A record that can never be
 *   accepted (InvalidInput: the message, or its data) goes to the rejected-messages port at once — the
 *   DLQ, with the reasons — and is acknowledged, so it never holds up its FIFO group through
 *   redeliveries. Any other failure (an outage) is reported in `batchItemFailures`: SQS redelivers it.
 * - Console event (`{"body": {"param": …}}`, `{"body": "<json>"}` or `{"param": …}`): returns the
 *   summary; an invalid message throws InvalidInput.
 */
export async function startPipelineFromEvent(event: unknown, deps: Dependencies, config?: ParseConfig): Promise<ParseSummary | SqsBatchResponse> {
  if (!isSqsEvent(event)) return startPipeline(parseConsoleEvent(event), deps, config);
  const response: SqsBatchResponse = { batchItemFailures: [], runs: [], rejected: [] };
  for (const record of event.Records) {
    const id = typeof record.messageId === 'string' ? record.messageId : '';
    try {
      if (typeof record.body !== 'string') throw new InvalidInput('SQS record has no string body', ['body: missing']);
      response.runs.push(await startPipeline(parseMessageBody(record.body), deps, config, deliveryOf(record, id)));
    } catch (error) {
      console.error(JSON.stringify({ level: 'ERROR', message: 'parse failed for SQS record', messageId: id, error: describeError(error) }));
      if (error instanceof InvalidInput && (await rejectRecord(record, id, error, deps))) {
        response.rejected.push({ messageId: id, reasons: error.issues });
      } else {
        response.batchItemFailures.push({ itemIdentifier: id });
      }
    }
  }
  return response;
}

/** Stores a rejected record with its reasons; false when even that failed (SQS then redelivers it). */
async function rejectRecord(record: SqsRecordLike, messageId: string, error: InvalidInput, deps: Dependencies): Promise<boolean> {
  const group = record.attributes?.MessageGroupId;
  try {
    await deps.rejections.reject({
      messageId,
      body: typeof record.body === 'string' ? record.body : JSON.stringify(record.body ?? null),
      error: error.name,
      message: error.message,
      reasons: error.issues.length > 0 ? error.issues : [error.message],
      messageGroupId: typeof group === 'string' ? group : undefined,
    });
    return true;
  } catch (failure) {
    console.error(JSON.stringify({ level: 'ERROR', message: 'could not store the rejected SQS record; leaving it to SQS redelivery', messageId, error: describeError(failure) }));
    return false;
  }
}
