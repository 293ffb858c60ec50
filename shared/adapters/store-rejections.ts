/**
 * The embedded adapter of the rejected-messages port: one JSON record per rejected message under
 * `s3://<bucket>/rejected/<messageId>.json` (a folder locally) — the body as received, the error
 * and the reasons. A redelivered rejection replaces its own record.
 */
import { s3Uri, type ObjectStore } from '../ports/storage';
import type { RejectedMessage, RejectedMessages } from '../ports/rejections';

export const REJECTED_PREFIX = 'rejected';

export class StoreRejectedMessages implements RejectedMessages {
  constructor(
    private readonly store: ObjectStore,
    private readonly bucket: string,
  ) {}

  /** Where the record of a message id is kept (an id is made safe as a key). */
  uriOf(messageId: string): string {
    return s3Uri(this.bucket, REJECTED_PREFIX, `${messageId.replace(/[^A-Za-z0-9_.-]/g, '_') || 'unknown'}.json`);
  }

  async reject(rejected: RejectedMessage): Promise<void> {
    const record = { ...rejected, rejectedAt: new Date().toISOString() };
    await this.store.put(this.uriOf(rejected.messageId), `${JSON.stringify(record, null, 2)}\n`);
  }
}
