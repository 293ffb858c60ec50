/**
 * Bad input, table-driven (issue 6 item 3): every hostile or broken message and every kind of bad
 * data is rejected by the real parse entry point (`startPipelineFromEvent`) on a real DuckDB file and
 * a real folder store, with an error naming what is wrong; none starts an execution, none leaves a
 * file behind or changes the warehouse; on the SQS path the record is not reported in batchItemFailures
 * (it would wait in its FIFO group through every redelivery) but handed to the rejected-messages port
 * (the DLQ on AWS) with its body and reasons, and acknowledged.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { FolderObjectStore } from '../../shared/adapters/folder-store';
import { openDuckDbWarehouse } from '../../shared/adapters/duckdb-warehouse';
import { InvalidInput } from '../../shared/errors';
import { parseConfigFromEnv, startPipelineFromEvent, type ParseConfig, type SqsBatchResponse } from '../../shared/parse';
import type { RejectedMessage, RejectedMessages, StartedExecution, Warehouse, WorkflowStarter } from '../../shared/ports';
import type { Dependencies } from '../../shared/runtime';
import { DEFAULT_TABLES, ensureTables, writeRelatedInputRows, writeTargetInputRows } from '../../shared/warehouse/layout';
import { BAD_DATA, BAD_MESSAGES, SURVIVABLE_DATA, VALID_PARAM, dailySeries, type ActualRow, type BadData } from './bad-input-cases';

const BUCKET = 'bad-input-bucket';
/** Longest error text we accept: a hostile 1 MiB field must not be echoed back whole into logs. */
const MAX_ERROR_CHARS = 4_000;

class RecordingRejections implements RejectedMessages {
  readonly rejected: RejectedMessage[] = [];
  async reject(rejected: RejectedMessage): Promise<void> {
    this.rejected.push(rejected);
  }
}

class RecordingStarter implements WorkflowStarter {
  readonly started: { name: string; input: unknown }[] = [];
  async startExecution(name: string, input: unknown): Promise<StartedExecution> {
    this.started.push({ name, input });
    return { executionArn: `arn:aws:states:us-east-1:000000000000:execution:local:${name}`, alreadyStarted: false };
  }
  /** Each case starts from a clean slate: no earlier attempt of any run. */
  async describeExecution(): Promise<undefined> {
    return undefined;
  }
}

let root: string;
let store: FolderObjectStore;
let warehouse: Warehouse;
let starter: RecordingStarter;
let rejections: RecordingRejections;
let deps: Dependencies;
const config = parseConfigFromEnv({});

function toDate(at: string): Date {
  return new Date(at.length === 10 ? `${at}T00:00:00Z` : `${at.replace(' ', 'T')}Z`);
}

async function seed(dataName: string, rows: readonly ActualRow[], related: BadData['related'] = undefined): Promise<void> {
  await writeTargetInputRows(
    warehouse,
    rows.map((r) => ({ dataName, itemId: r.item, timestamp: toDate(r.at), value: r.value })),
  );
  if (related) {
    await writeRelatedInputRows(
      warehouse,
      related.map((r) => ({ dataName, itemId: r.item, timestamp: toDate(r.at), price: r.price, promotion: r.promotion })),
    );
  }
}

async function tableCounts(): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const table of Object.values(DEFAULT_TABLES)) {
    for await (const row of warehouse.query(`SELECT COUNT(*) AS N FROM ${table}`)) counts[table] = Number(row.N);
  }
  return counts;
}

function sqsEvent(body: string, messageId: string) {
  return {
    Records: [
      {
        messageId,
        receiptHandle: 'handle',
        body,
        attributes: { ApproximateReceiveCount: '1', MessageGroupId: 'g', MessageDeduplicationId: messageId },
        messageAttributes: {},
        eventSource: 'aws:sqs',
        eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:ForecastQueue.fifo',
        awsRegion: 'us-east-1',
      },
    ],
  };
}

/** The SQS record is not a batch failure: it went to the rejected-messages port with its body and reasons. */
function expectRejectedAtOnce(sqs: SqsBatchResponse, messageId: string, sentBody: string, names: RegExp): void {
  expect(sqs.batchItemFailures).toEqual([]);
  expect(sqs.rejected.map((r) => r.messageId)).toEqual([messageId]);
  expect(rejections.rejected).toHaveLength(1);
  const [kept] = rejections.rejected;
  expect(kept).toMatchObject({ messageId, body: sentBody, error: 'InvalidInput', messageGroupId: 'g' });
  expect(kept!.reasons.length).toBeGreaterThan(0);
  expect(`${kept!.message} ${kept!.reasons.join(' ')}`).toMatch(names);
}

/** Runs one body through both entry shapes; returns the console error and the SQS response + logged reason. */
async function reject(body: string, messageId: string, parseConfig: ParseConfig = config): Promise<{ consoleError: unknown; sqs: SqsBatchResponse; logged: string }> {
  let consoleError: unknown;
  try {
    await startPipelineFromEvent({ body }, deps, parseConfig);
  } catch (error) {
    consoleError = error;
  }
  const logSpy = vi.spyOn(console, 'error').mockImplementation(() => undefined);
  let sqs: SqsBatchResponse;
  let logged: string;
  try {
    sqs = (await startPipelineFromEvent(sqsEvent(body, messageId), deps, parseConfig)) as SqsBatchResponse;
  } finally {
    logged = logSpy.mock.calls.map((call) => call.map(String).join(' ')).join('\n');
    logSpy.mockRestore();
  }
  return { consoleError, sqs, logged };
}

const tally = { tried: 0, rejected: 0 };

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'bad-input-'));
  store = new FolderObjectStore(join(root, 'bucket'));
  warehouse = await openDuckDbWarehouse({ path: join(root, 'warehouse.duckdb') });
  await ensureTables(warehouse);
  // The valid message's dataset is healthy: the rows below fail only because of what each breaks.
  await seed(VALID_PARAM.DataName, dailySeries('item_a', 90));
  starter = new RecordingStarter();
  rejections = new RecordingRejections();
  deps = {
    forecast: { send: () => Promise.reject(new Error('parse must not call Forecast')) } as unknown as Dependencies['forecast'],
    store,
    warehouse: async () => warehouse,
    workflow: starter,
    rejections,
    settings: { bucket: BUCKET, forecastRoleArn: 'arn:aws:iam::000000000000:role/local-forecast' },
  };
});

afterAll(async () => {
  await warehouse?.close();
  if (root) await rm(root, { recursive: true, force: true });
  // A line the lead can quote.
  console.log(`bad inputs: ${tally.tried} tried, ${tally.rejected} rejected`);
});

// A failed case must not make the next ones fail: forget what it started or wrote.
afterEach(async () => {
  starter.started.length = 0;
  rejections.rejected.length = 0;
  for (const o of await store.list(`s3://${BUCKET}/`)) await store.delete(o.uri);
});

describe('bad input: the harness', () => {
  it('starts an execution and writes the CSVs for the valid message (so the rejections below mean something)', async () => {
    // Act
    const summary = await startPipelineFromEvent({ body: JSON.stringify({ param: VALID_PARAM }) }, deps, config);
    // Assess
    expect(summary).toMatchObject({ runId: 'bad_input_demo_2024_03_01', alreadyStarted: false });
    expect(starter.started.map((s) => s.name)).toEqual(['bad_input_demo_2024_03_01']);
    expect((await store.list(`s3://${BUCKET}/`)).length).toBeGreaterThan(0);
  });
});

describe('bad input: hostile and broken messages', () => {
  let before: Record<string, number>;
  beforeAll(async () => {
    before = await tableCounts();
  });

  it.each(BAD_MESSAGES.map((c, i) => [c.name, c, i] as const))('rejects %s', async (_name, badCase, index) => {
    // Act
    tally.tried++;
    const { consoleError, sqs, logged } = await reject(badCase.body, `msg-${index}`);
    // Assess: a clear error naming the field, on both paths
    expect(consoleError).toBeInstanceOf(InvalidInput);
    const text = (consoleError as Error).message;
    expect(text).toMatch(badCase.names);
    expect(text.length).toBeLessThan(MAX_ERROR_CHARS);
    expectRejectedAtOnce(sqs, `msg-${index}`, badCase.body, badCase.names);
    expect(sqs.runs).toEqual([]);
    expect(logged).toMatch(badCase.names);
    // nothing started, nothing written, the warehouse unchanged
    expect(starter.started).toEqual([]);
    expect(await store.list(`s3://${BUCKET}/`)).toEqual([]);
    expect(await tableCounts()).toEqual(before);
    tally.rejected++;
  });
});

describe('bad input: bad data behind a valid message', () => {
  it.each(BAD_DATA.map((c, i) => [c.name, c, i] as const))('rejects %s', async (_name, badCase, index) => {
    // Prepare: each case in its own dataset of the same warehouse
    const dataName = `bad_data_${index}`;
    await seed(dataName, badCase.rows, badCase.related);
    const body = JSON.stringify({ param: { ...VALID_PARAM, DataName: dataName, ...badCase.param } });
    const before = await tableCounts();
    // Act
    tally.tried++;
    const { consoleError, sqs, logged } = await reject(body, `data-${index}`, badCase.env ? parseConfigFromEnv(badCase.env) : config);
    // Assess
    expect(consoleError).toBeInstanceOf(InvalidInput);
    expect((consoleError as Error).message).toMatch(badCase.names);
    if (process.env.SHOW_BAD_INPUT) console.log(`${badCase.name} → ${(consoleError as Error).message}`);
    expectRejectedAtOnce(sqs, `data-${index}`, body, badCase.names);
    expect(logged).toMatch(badCase.names);
    expect(starter.started).toEqual([]);
    expect(await store.list(`s3://${BUCKET}/`)).toEqual([]);
    expect(await tableCounts()).toEqual(before);
    tally.rejected++;
  });
});

describe('bad input: bad items and stale data behind a valid message are recorded, and the run goes on', () => {
  it.each(SURVIVABLE_DATA.map((c, i) => [c.name, c, i] as const))('survives %s', async (_name, dataCase, index) => {
    // Prepare
    const dataName = `survivable_${index}`;
    await seed(dataName, dataCase.rows, dataCase.related);
    const body = JSON.stringify({ param: { ...VALID_PARAM, DataName: dataName } });

    // Act: twice, as a redelivered message would
    await startPipelineFromEvent({ body }, deps, config);
    const summary = await startPipelineFromEvent({ body }, deps, config);

    // Assess: one run started for the good items, the bad ones recorded once with their reasons
    expect(starter.started.map((s) => s.name)).toEqual([`${dataName}_2024_03_01`, `${dataName}_2024_03_01`]);
    const issues: { ISSUE: unknown; ITEM_ID: unknown; REASON: unknown }[] = [];
    for await (const row of warehouse.query(`SELECT ISSUE, ITEM_ID, REASON FROM ${DEFAULT_TABLES.dataIssues} WHERE DATASET_NAME = ? ORDER BY ISSUE, ITEM_ID`, [dataName])) issues.push(row as never);
    expect(issues).toHaveLength(dataCase.issues.length);
    dataCase.issues.forEach((expected, i) => {
      expect(issues[i]).toMatchObject({ ISSUE: expected.issue, ITEM_ID: expected.item });
      expect(String(issues[i]!.REASON)).toMatch(expected.reason);
    });
    const quarantined = dataCase.issues.filter((i) => i.issue === 'QUARANTINED');
    expect(summary).toMatchObject({ quarantined: quarantined.length });
    const target = (await store.get(`s3://${BUCKET}/${dataName}/20240301/target.csv`)).toString('utf8');
    expect(target).toContain('item_good');
    for (const q of quarantined) expect(target).not.toContain(q.item!);
    if (dataCase.related) {
      const related = (await store.get(`s3://${BUCKET}/${dataName}/20240301/related.csv`)).toString('utf8');
      expect(related).toContain('item_good');
      for (const q of quarantined) expect(related).not.toContain(q.item!);
    }
  });
});
