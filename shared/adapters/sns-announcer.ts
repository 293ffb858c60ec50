/**
 * Optional run notifications on an SNS topic (success, partial, failure). The topic ARN
 * comes from the template (empty when no topic is configured → nothing is published).
 */
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { traced } from '../observability';

export interface Announcer {
  announce(subject: string, message: unknown): Promise<void>;
}

let client: SNSClient | undefined;

export class SnsAnnouncer implements Announcer {
  constructor(
    readonly topicArn: string,
    private readonly sns: Pick<SNSClient, 'send'> = (client ??= traced(new SNSClient({ maxAttempts: 5 }))),
  ) {}

  async announce(subject: string, message: unknown): Promise<void> {
    await this.sns.send(
      new PublishCommand({
        TopicArn: this.topicArn,
        // SNS subjects: at most 100 printable ASCII characters.
        Subject: subject.replace(/[^\x20-\x7e]/g, '?').slice(0, 100),
        Message: typeof message === 'string' ? message : JSON.stringify(message, null, 2),
      }),
    );
  }
}

/** The announcer the environment configures (`NOTIFY_TOPIC_ARN`), or undefined. */
export function announcerFromEnv(env: NodeJS.ProcessEnv = process.env): Announcer | undefined {
  const topicArn = env.NOTIFY_TOPIC_ARN;
  return topicArn ? new SnsAnnouncer(topicArn) : undefined;
}
