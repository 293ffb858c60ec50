/**
 * The SQS path end to end on a real (moto) FIFO queue with a dead-letter queue: a poller shaped like
 * Lambda's event source mapping (ReportBatchItemFailures) hands received messages to the real parse
 * entry point. An invalid message is sent to the DLQ by parse itself (SqsDeadLetterQueue, the reasons
 * as message attributes) on its first receive and acknowledged, so the valid message behind it in the
 * same FIFO group runs at once; a record parse reports in batchItemFailures (an outage, or a DLQ it
 * cannot reach) comes back and, after maxReceiveCount receives, SQS moves it to the DLQ.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  ChangeMessageVisibilityCommand,
  CreateQueueCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
  type Message,
} from '@aws-sdk/client-sqs';
import { FolderObjectStore } from '../../../shared/adapters/folder-store';
import { openDuckDbWarehouse } from '../../../shared/adapters/duckdb-warehouse';
import { SqsParameterQueue } from '../../../shared/adapters/sqs-queue';
import { SqsDeadLetterQueue } from '../../../shared/adapters/sqs-dead-letter';
import { parseConfigFromEnv, startPipelineFromEvent, type SqsBatchResponse } from '../../../shared/parse';
import type { StartedExecution, Warehouse, WorkflowStarter } from '../../../shared/ports';
import type { Dependencies } from '../../../shared/runtime';
import { ensureTables } from '../../../shared/warehouse/layout';
import { seedSmallDataset } from '../../faults/harness';
import { startMoto, type MotoServer } from './moto';

const MAX_RECEIVE_COUNT = 3;

let moto: MotoServer;
let sqs: SQSClient;
let root: string;
let warehouse: Warehouse;
const started: string[] = [];

const starter: WorkflowStarter = {
  async startExecution(name: string): Promise<StartedExecution> {
    const alreadyStarted = started.includes(name);
    if (!alreadyStarted) started.push(name);
    return { executionArn: `arn:aws:states:us-east-1:000000000000:execution:m:${name}`, alreadyStarted };
  },
  async describeExecution(name: string) {
    return started.includes(name) ? { name, executionArn: `arn:aws:states:us-east-1:000000000000:execution:m:${name}`, status: 'RUNNING' as const, input: {} } : undefined;
  },
};

function toEvent(messages: readonly Message[]) {
  return {
    Records: messages.map((m) => ({
      messageId: m.MessageId!,
      receiptHandle: m.ReceiptHandle!,
      body: m.Body!,
      attributes: m.Attributes ?? {},
      messageAttributes: {},
      md5OfBody: m.MD5OfBody ?? '',
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:ForecastQueue.fifo',
      awsRegion: 'us-east-1',
    })),
  };
}

beforeAll(async () => {
  moto = await startMoto();
  sqs = new SQSClient(moto.clientConfig);
  root = await mkdtemp(join(tmpdir(), 'sqs-redrive-'));
  warehouse = await openDuckDbWarehouse({ path: join(root, 'warehouse.duckdb') });
  await ensureTables(warehouse);
  await seedSmallDataset(warehouse, 'redrive_ok', { items: 2, days: 60, forecastStart: new Date(Date.UTC(2024, 2, 1)) });
});

afterAll(async () => {
  await warehouse?.close();
  sqs?.destroy();
  await moto?.stop();
  if (root) await rm(root, { recursive: true, force: true });
});

/** The queue pair as template.yaml declares it (FIFO, redrive to a FIFO DLQ). */
async function createQueues(prefix: string): Promise<{ queueUrl: string; dlqUrl: string }> {
  const dlq = await sqs.send(new CreateQueueCommand({ QueueName: `${prefix}DLQ.fifo`, Attributes: { FifoQueue: 'true' } }));
  const dlqArn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: dlq.QueueUrl!, AttributeNames: ['QueueArn'] }))).Attributes!.QueueArn!;
  const queue = await sqs.send(
    new CreateQueueCommand({
      QueueName: `${prefix}Queue.fifo`,
      Attributes: {
        FifoQueue: 'true',
        VisibilityTimeout: '180',
        RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: MAX_RECEIVE_COUNT }),
      },
    }),
  );
  return { queueUrl: queue.QueueUrl!, dlqUrl: dlq.QueueUrl! };
}

function dependencies(rejections: Dependencies['rejections']): Dependencies {
  return {
    forecast: { send: () => Promise.reject(new Error('parse must not call Forecast')) } as unknown as Dependencies['forecast'],
    store: new FolderObjectStore(join(root, 'bucket')),
    warehouse: async () => warehouse,
    workflow: starter,
    rejections,
    settings: { bucket: 'bucket', forecastRoleArn: 'arn:aws:iam::000000000000:role/x' },
  };
}

/** Polls like the event source mapping, a bounded number of times; returns the receive counts of the bad message. */
async function pollQueue(queueUrl: string, deps: Dependencies, badDataName: string): Promise<number[]> {
  const receivesOfBad: number[] = [];
  const config = parseConfigFromEnv({});
  const quiet = vi.spyOn(console, 'error').mockImplementation(() => undefined);
  try {
    for (let poll = 0; poll < 12; poll++) {
      // One message per receive, as BatchSize 1 does: the next of a FIFO group is handed out only
      // once the one before it was deleted.
      const received = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 1, WaitTimeSeconds: 0, MessageSystemAttributeNames: ['All'] }));
      const messages = received.Messages ?? [];
      if (messages.length === 0) break;
      for (const m of messages) if (JSON.parse(m.Body!).param.DataName === badDataName) receivesOfBad.push(Number(m.Attributes?.ApproximateReceiveCount));
      const response = (await startPipelineFromEvent(toEvent(messages), deps, config)) as SqsBatchResponse;
      const failed = new Set(response.batchItemFailures.map((f) => f.itemIdentifier));
      for (const m of messages) {
        if (failed.has(m.MessageId!)) {
          // The mapping leaves a failed record; make it visible now instead of after 180 s.
          await sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: queueUrl, ReceiptHandle: m.ReceiptHandle!, VisibilityTimeout: 0 }));
        } else {
          await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: m.ReceiptHandle! }));
        }
      }
    }
  } finally {
    quiet.mockRestore();
  }
  return receivesOfBad;
}

describe('SQS FIFO queue + DLQ (moto) → parse', () => {
  it('sends an invalid message to the DLQ on its first receive, with the reasons; the valid one behind it in its group runs at once', async () => {
    // Prepare: the bad message first, the good one behind it in the same FIFO group
    const { queueUrl, dlqUrl } = await createQueues('Forecast');
    const good = { param: { DataName: 'redrive_ok', ForecastHorizon: 7, dateCreate: '20240301', Models: ['ETS'] } };
    const bad = { param: { DataName: 'redrive_bad', ForecastHorizon: 0, dateCreate: '20240301' } };
    await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify(bad), MessageGroupId: 'redrive_ok', MessageDeduplicationId: 'redrive_bad_2024_03_01' }));
    await new SqsParameterQueue(queueUrl, sqs).enqueue(good);
    const deps = dependencies(new SqsDeadLetterQueue(dlqUrl, sqs));

    // Act
    const receivesOfBad = await pollQueue(queueUrl, deps, 'redrive_bad');

    // Assess
    expect(started).toEqual(['redrive_ok_2024_03_01']);
    expect(receivesOfBad).toEqual([1]);
    const inDlq = await sqs.send(new ReceiveMessageCommand({ QueueUrl: dlqUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0, MessageAttributeNames: ['All'] }));
    const messages = inDlq.Messages ?? [];
    expect(messages.map((m) => JSON.parse(m.Body!))).toEqual([bad]);
    const attributes = messages[0]!.MessageAttributes!;
    expect(attributes.ErrorName?.StringValue).toBe('InvalidInput');
    expect(JSON.parse(attributes.Reasons!.StringValue!).join(' ')).toMatch(/ForecastHorizon/);
    expect(attributes.SourceMessageId?.StringValue).toMatch(/./);
    const left = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }));
    expect(left.Messages ?? []).toEqual([]);
  });

  it('leaves a message to SQS redelivery (and its redrive to the DLQ) when the DLQ cannot be reached', async () => {
    // Prepare
    started.length = 0;
    const { queueUrl, dlqUrl } = await createQueues('Unreachable');
    const bad = { param: { DataName: 'redrive_bad', ForecastHorizon: 0, dateCreate: '20240302' } };
    await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify(bad), MessageGroupId: 'redrive_bad', MessageDeduplicationId: 'redrive_bad_2024_03_02' }));
    const deps = dependencies({ reject: () => Promise.reject(new Error('DLQ unreachable')) });

    // Act
    const receivesOfBad = await pollQueue(queueUrl, deps, 'redrive_bad');

    // Assess: received maxReceiveCount times, then moved by SQS's own redrive
    expect(started).toEqual([]);
    expect(receivesOfBad).toEqual([1, 2, 3]);
    const inDlq = await sqs.send(new ReceiveMessageCommand({ QueueUrl: dlqUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }));
    expect((inDlq.Messages ?? []).map((m) => JSON.parse(m.Body!))).toEqual([bad]);
  });
});
