/**
 * Sends a parameter message to the pipeline's SQS FIFO queue — what a scheduler or a person does
 * to start a run on AWS. The message group is the DataName (runs of one dataset are processed in
 * order), the deduplication id is the execution name `<DataName>_<YYYY_MM_DD>`, so sending the same
 * run twice within SQS's 5-minute window delivers it once; a later duplicate reaches parse, which
 * decides from the run's attempts whether it is a duplicate (shared/parse/attempts.ts).
 * `newAttempt` asks for a new attempt even after a SUCCEEDED one (message attribute
 * `ForceNewAttempt`), with a deduplication id of its own so that SQS does not drop it as a re-send.
 */
import { readFile } from 'node:fs/promises';
import { SendMessageCommand, SQSClient, type SQSClientConfig } from '@aws-sdk/client-sqs';
import { InvalidInput } from '../errors';
import { executionName, MAX_DATA_NAME, RESOURCE_NAME_PATTERN } from '../names';
import { FORCE_NEW_ATTEMPT_ATTRIBUTE } from '../parse/attempts';

export interface EnqueuedMessage {
  readonly messageId: string;
  /** FIFO sequence number; the same for a send SQS deduplicated. */
  readonly sequenceNumber: string | undefined;
  readonly messageGroupId: string;
  readonly messageDeduplicationId: string;
}

type Sender = Pick<SQSClient, 'send'>;

/**
 * The `param` object of a message in any of the accepted shapes: `{"param": …}`,
 * `{"body": {"param": …}}`, `{"body": "<json>"}`, a JSON string of those, or the param object itself.
 */
export function extractParam(message: unknown): Record<string, unknown> {
  let value: unknown = message;
  for (let depth = 0; depth < 4; depth++) {
    if (typeof value === 'string') {
      try {
        value = JSON.parse(value);
      } catch (error) {
        throw new InvalidInput('The message is not valid JSON', [`message: ${(error as Error).message}`]);
      }
      continue;
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) break;
    const record = value as Record<string, unknown>;
    if ('param' in record) {
      value = record.param;
      break;
    }
    if ('body' in record) {
      value = record.body;
      continue;
    }
    break;
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new InvalidInput('The message must be an object with a "param" object', [`param: received ${JSON.stringify(value)?.slice(0, 80)}`]);
  }
  return value as Record<string, unknown>;
}

/** Group and deduplication ids of a message; throws InvalidInput naming the field when they cannot be made. */
export function fifoIds(message: unknown): { param: Record<string, unknown>; messageGroupId: string; messageDeduplicationId: string } {
  const param = extractParam(message);
  const { DataName: dataName, dateCreate } = param;
  const issues: string[] = [];
  if (typeof dataName !== 'string' || !RESOURCE_NAME_PATTERN.test(dataName) || dataName.length > MAX_DATA_NAME) {
    issues.push(
      `DataName: must start with a letter, hold only letters, digits and _, at most ${MAX_DATA_NAME} characters; received ${JSON.stringify(dataName)}`,
    );
  }
  if (typeof dateCreate !== 'string' || !/^\d{8}$/.test(dateCreate)) {
    issues.push(`dateCreate: must be YYYYMMDD; received ${JSON.stringify(dateCreate)}`);
  }
  if (issues.length > 0) throw new InvalidInput(`Invalid message: ${issues.join('; ')}`, issues);
  return {
    param,
    messageGroupId: dataName as string,
    messageDeduplicationId: executionName(dataName as string, dateCreate as string),
  };
}

/** The FIFO queue of parameter messages. */
export class SqsParameterQueue {
  private readonly client: Sender;

  constructor(
    readonly queueUrl: string,
    client?: Sender,
  ) {
    this.client = client ?? new SQSClient({});
  }

  /**
   * Sends `{"param": …}`; a second send of the same run within 5 minutes is deduplicated by SQS unless
   * `newAttempt` is set (a new attempt of the run even after a SUCCEEDED one).
   */
  async enqueue(message: unknown, options: { newAttempt?: boolean } = {}): Promise<EnqueuedMessage> {
    const ids = fifoIds(message);
    const { param, messageGroupId } = ids;
    const messageDeduplicationId = options.newAttempt ? `${ids.messageDeduplicationId}_new_${Date.now()}` : ids.messageDeduplicationId;
    const output = await this.client.send(
      new SendMessageCommand({
        QueueUrl: this.queueUrl,
        MessageBody: JSON.stringify({ param }),
        MessageGroupId: messageGroupId,
        MessageDeduplicationId: messageDeduplicationId,
        ...(options.newAttempt ? { MessageAttributes: { [FORCE_NEW_ATTEMPT_ATTRIBUTE]: { DataType: 'String', StringValue: 'true' } } } : {}),
      }),
    );
    if (!output.MessageId) throw new Error(`SQS accepted no message id for ${messageDeduplicationId}`);
    return { messageId: output.MessageId, sequenceNumber: output.SequenceNumber, messageGroupId, messageDeduplicationId };
  }
}

export const ENQUEUE_USAGE = `usage: forecast-pipeline enqueue --queue-url <url> --message <file|json> [--new-attempt] [--endpoint-url <url>] [--region <region>]

Sends a parameter message to the pipeline's SQS FIFO queue (MessageGroupId = DataName,
MessageDeduplicationId = <DataName>_<YYYY_MM_DD>: sending the same run twice within 5 minutes
delivers it once). Credentials come from the usual AWS chain (environment, profile, SSO).
  --queue-url      the ForecastQueue URL (stack output)
  --message        a file path or inline JSON: {"param": {...}} or the param object
  --new-attempt    run the run again as a new attempt even if it SUCCEEDED (a FAILED or PARTIAL run,
                   or a corrected message, needs no flag); not deduplicated against earlier sends
  --endpoint-url   another SQS-compatible endpoint (e.g. a local moto_server)
  --region         AWS region (default: from the environment)`;

function parseEnqueueArgs(argv: readonly string[]): { queueUrl?: string; message?: string; endpointUrl?: string; region?: string; help: boolean; newAttempt: boolean } {
  const out: { queueUrl?: string; message?: string; endpointUrl?: string; region?: string; help: boolean; newAttempt: boolean } = { help: false, newAttempt: false };
  const keys: Record<string, 'queueUrl' | 'message' | 'endpointUrl' | 'region'> = {
    '--queue-url': 'queueUrl',
    '--message': 'message',
    '--endpoint-url': 'endpointUrl',
    '--region': 'region',
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--help' || arg === '-h') {
      out.help = true;
      continue;
    }
    if (arg === '--new-attempt') {
      out.newAttempt = true;
      continue;
    }
    const [flag, inline] = arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    const key = keys[flag];
    if (!key) throw new InvalidInput(`Unknown option ${flag}`, [flag]);
    const value = inline ?? argv[++i];
    if (value === undefined) throw new InvalidInput(`Option ${flag} needs a value`, [flag]);
    out[key] = value;
  }
  return out;
}

/** A message given on the command line: inline JSON when it looks like JSON, otherwise a file path. */
export async function readMessageArgument(text: string): Promise<unknown> {
  const source = /^\s*[{["]/.test(text) ? text : await readFile(text, 'utf8');
  try {
    return JSON.parse(source);
  } catch (error) {
    throw new InvalidInput(`The message is not valid JSON: ${(error as Error).message}`, ['message']);
  }
}

/**
 * `forecast-pipeline enqueue …` — for the CLI to delegate to. Returns the exit code:
 * 0 sent, 2 usage or invalid message, 1 the send failed.
 */
export async function enqueueCommand(
  argv: readonly string[],
  io: { out: (line: string) => void; err: (line: string) => void } = { out: console.log, err: console.error },
  makeClient: (config: SQSClientConfig) => Sender = (config) => new SQSClient(config),
): Promise<number> {
  let args;
  let message: unknown;
  try {
    args = parseEnqueueArgs(argv);
    if (args.help) {
      io.out(ENQUEUE_USAGE);
      return 0;
    }
    if (!args.queueUrl || !args.message) throw new InvalidInput('--queue-url and --message are required', ['queue-url', 'message']);
    message = await readMessageArgument(args.message);
    fifoIds(message);
  } catch (error) {
    io.err(`enqueue: ${(error as Error).message}`);
    if (error instanceof InvalidInput) io.err(ENQUEUE_USAGE);
    return 2;
  }
  const config: SQSClientConfig = {};
  if (args.endpointUrl) config.endpoint = args.endpointUrl;
  if (args.region) config.region = args.region;
  try {
    const sent = await new SqsParameterQueue(args.queueUrl, makeClient(config)).enqueue(message, { newAttempt: args.newAttempt });
    io.out(
      `enqueued ${sent.messageDeduplicationId} (group ${sent.messageGroupId}, message ${sent.messageId}${sent.sequenceNumber ? `, sequence ${sent.sequenceNumber}` : ''})`,
    );
    return 0;
  } catch (error) {
    io.err(`enqueue: sending to ${args.queueUrl} failed: ${(error as Error).name}: ${(error as Error).message}`);
    return 1;
  }
}
