/**
 * The rejected-messages port: where parse puts an SQS message it can never accept (an invalid message,
 * or data a retry cannot fix), at once — instead of failing the record, which would keep it in its
 * FIFO group (the DataName) for every redelivery before SQS's own redrive to the DLQ.
 */
export interface RejectedMessage {
  /** The SQS message id of the delivery. */
  readonly messageId: string;
  /** The message body exactly as received. */
  readonly body: string;
  /** The error name (`InvalidInput`) and its message. */
  readonly error: string;
  readonly message: string;
  /** One line per problem, each naming the field (InvalidInput's issues). */
  readonly reasons: readonly string[];
  /** The FIFO group the message came from (the DataName), when SQS said. */
  readonly messageGroupId?: string | undefined;
}

export interface RejectedMessages {
  /** Keeps the message and why it was rejected; resolves once it is stored. */
  reject(rejected: RejectedMessage): Promise<void>;
}
