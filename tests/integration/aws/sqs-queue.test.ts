import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreateQueueCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { enqueueCommand, SqsParameterQueue } from '../../../shared/adapters/sqs-queue';
import { InvalidInput } from '../../../shared/errors';
import { startMoto, type MotoServer } from './moto';

const param = {
  DataName: 'retail_demo',
  ForecastHorizon: 14,
  NumberOfBacktestWindows: 1,
  PerformDelete: true,
  dateCreate: '20240301',
  ForecastFrequency: 'D',
  Models: ['ETS', 'NPTS'],
};

let moto: MotoServer;
let sqs: SQSClient;

async function fifoQueue(name: string): Promise<string> {
  const created = await sqs.send(
    new CreateQueueCommand({ QueueName: `${name}.fifo`, Attributes: { FifoQueue: 'true', ContentBasedDeduplication: 'false' } }),
  );
  return created.QueueUrl!;
}

async function drain(queueUrl: string): Promise<{ body: unknown; group: string | undefined; dedup: string | undefined }[]> {
  const received: { body: unknown; group: string | undefined; dedup: string | undefined }[] = [];
  for (;;) {
    const page = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 0,
        VisibilityTimeout: 300,
        MessageSystemAttributeNames: ['MessageGroupId', 'MessageDeduplicationId'],
      }),
    );
    const messages = page.Messages ?? [];
    if (messages.length === 0) return received;
    for (const m of messages) {
      received.push({ body: JSON.parse(m.Body!), group: m.Attributes?.MessageGroupId, dedup: m.Attributes?.MessageDeduplicationId });
    }
  }
}

beforeAll(async () => {
  moto = await startMoto();
  sqs = new SQSClient(moto.clientConfig);
});

afterAll(async () => {
  sqs?.destroy();
  await moto?.stop();
});

describe('SqsParameterQueue (real SQS client, moto endpoint)', () => {
  it('sends {"param": …} with group = DataName and deduplication id = execution name', async () => {
    // Prepare
    const queueUrl = await fifoQueue('ids');
    // Act
    const sent = await new SqsParameterQueue(queueUrl, sqs).enqueue({ param });
    // Assess
    expect(sent).toMatchObject({ messageGroupId: 'retail_demo', messageDeduplicationId: 'retail_demo_2024_03_01' });
    const received = await drain(queueUrl);
    expect(received).toEqual([{ body: { param }, group: 'retail_demo', dedup: 'retail_demo_2024_03_01' }]);
  });

  it('delivers a run sent twice within the deduplication window once, in any accepted shape', async () => {
    // Prepare
    const queueUrl = await fifoQueue('dedup');
    const queue = new SqsParameterQueue(queueUrl, sqs);
    // Act: the same run as {param}, as the console shape, and as a JSON string
    const first = await queue.enqueue({ param });
    const second = await queue.enqueue({ body: { param } });
    const third = await queue.enqueue(JSON.stringify({ param }));
    const otherDay = await queue.enqueue({ param: { ...param, dateCreate: '20240302' } });
    // Assess
    expect(second.messageDeduplicationId).toBe(first.messageDeduplicationId);
    expect(third.messageDeduplicationId).toBe(first.messageDeduplicationId);
    const received = await drain(queueUrl);
    expect(received.map((m) => m.dedup)).toEqual(['retail_demo_2024_03_01', 'retail_demo_2024_03_02']);
    expect(otherDay.messageId).not.toBe(first.messageId);
  });

  it('sends a new attempt with the ForceNewAttempt attribute and its own deduplication id (not dropped as a re-send)', async () => {
    // Prepare
    const queueUrl = await fifoQueue('attempt');
    const queue = new SqsParameterQueue(queueUrl, sqs);
    // Act
    await queue.enqueue({ param });
    const again = await queue.enqueue({ param }, { newAttempt: true });
    // Assess
    expect(again.messageDeduplicationId).toMatch(/^retail_demo_2024_03_01_new_\d+$/);
    const received = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, MessageAttributeNames: ['All'], MessageSystemAttributeNames: ['All'] }));
    const messages = received.Messages ?? [];
    expect(messages).toHaveLength(2);
    expect(messages.map((m) => m.MessageAttributes?.ForceNewAttempt?.StringValue)).toEqual([undefined, 'true']);
  });

  it('rejects a message whose ids cannot be made, naming the field, without sending', async () => {
    // Prepare
    const queueUrl = await fifoQueue('reject');
    const queue = new SqsParameterQueue(queueUrl, sqs);
    // Act / Assess
    await expect(queue.enqueue({ param: { ...param, DataName: "x'; DROP TABLE t;--" } })).rejects.toThrow(/DataName/);
    await expect(queue.enqueue({ param: { ...param, dateCreate: '2024-03-01' } })).rejects.toThrow(/dateCreate/);
    await expect(queue.enqueue('{not json')).rejects.toBeInstanceOf(InvalidInput);
    await expect(queue.enqueue([param])).rejects.toThrow(/param/);
    expect(await drain(queueUrl)).toEqual([]);
  });

  it('enqueue command sends through an endpoint given on the command line', async () => {
    // Prepare
    const queueUrl = await fifoQueue('cli');
    const out: string[] = [];
    const err: string[] = [];
    const io = { out: (l: string) => out.push(l), err: (l: string) => err.push(l) };
    // Act
    const code = await enqueueCommand(
      ['--queue-url', queueUrl, '--message', JSON.stringify({ param }), '--endpoint-url', moto.endpoint, '--region', 'us-east-1'],
      io,
    );
    const errorsOfGoodSend = [...err];
    const bad = await enqueueCommand(['--queue-url', queueUrl, '--message', '{"param": {"DataName": "1bad"}}'], io);
    // Assess
    expect({ code, errorsOfGoodSend }).toEqual({ code: 0, errorsOfGoodSend: [] });
    expect(out[0]).toMatch(/^enqueued retail_demo_2024_03_01 \(group retail_demo/);
    expect(bad).toBe(2);
    expect(err.join('\n')).toMatch(/DataName/);
    expect((await drain(queueUrl)).length).toBe(1);
  });
});
