/**
 * The AWS adapter of the rejected-messages port: parse sends a rejected message to the pipeline's
 * dead-letter queue itself (a FIFO queue: same group as the source, deduplicated by the source
 * message id, so a redelivered rejection lands once), with why as message attributes. The DLQ's
 * depth alarm (template.yaml) announces it.
 */
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { RejectedMessage, RejectedMessages } from '../ports/rejections';

/** SQS limits a message attribute value to the message size; reasons are cut well before. */
const MAX_ATTRIBUTE_CHARS = 4_000;

let client: SQSClient | undefined;

export class SqsDeadLetterQueue implements RejectedMessages {
  private readonly sqs: Pick<SQSClient, 'send'>;

  constructor(
    readonly queueUrl: string,
    sqs?: Pick<SQSClient, 'send'>,
  ) {
    this.sqs = sqs ?? (client ??= new SQSClient({ maxAttempts: 5 }));
  }

  async reject(rejected: RejectedMessage): Promise<void> {
    const text = (value: string) => ({ DataType: 'String', StringValue: value.slice(0, MAX_ATTRIBUTE_CHARS) || '-' });
    await this.sqs.send(
      new SendMessageCommand({
        QueueUrl: this.queueUrl,
        MessageBody: rejected.body,
        MessageGroupId: rejected.messageGroupId || 'rejected',
        MessageDeduplicationId: rejected.messageId,
        MessageAttributes: {
          RejectedBy: text('parse'),
          SourceMessageId: text(rejected.messageId),
          ErrorName: text(rejected.error),
          ErrorMessage: text(rejected.message),
          Reasons: text(JSON.stringify(rejected.reasons)),
        },
      }),
    );
  }
}
