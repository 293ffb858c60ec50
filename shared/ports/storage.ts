/**
 * The object-storage port. Objects are addressed by `s3://bucket/key` URIs everywhere,
 * so the pipeline state is identical on S3 and on the local folder store.
 */
export type ObjectBody = string | Uint8Array | AsyncIterable<string | Uint8Array>;

export interface ObjectInfo {
  readonly uri: string;
  readonly size: number;
}

/** An object's bytes and the version a conditional write compares against (S3: its ETag). */
export interface VersionedObject {
  readonly body: Buffer;
  readonly version: string;
}

/**
 * A conditional write: `ifNoneMatch: '*'` writes only if no object exists at the URI (create-once);
 * `ifMatch` writes only if the object is still at that version (compare-and-swap). Either fails with
 * `PreconditionFailed`, and two conditional writes to one object never both succeed on the same
 * version.
 */
export type WriteCondition = { readonly ifNoneMatch: '*' } | { readonly ifMatch: string };

export interface ObjectStore {
  /** Writes (replaces) one object; an async iterable body is streamed, never joined in memory. */
  put(uri: string, body: ObjectBody): Promise<void>;
  /** Reads a whole object; throws `ObjectNotFound` when it does not exist. */
  get(uri: string): Promise<Buffer>;
  /** Streams an object's bytes; throws `ObjectNotFound` when it does not exist. */
  read(uri: string): AsyncIterable<Uint8Array>;
  /** Every object whose key starts with the URI's key prefix (all pages), in key order. */
  list(prefixUri: string): Promise<ObjectInfo[]>;
  /** Deletes one object; deleting a missing object is not an error. */
  delete(uri: string): Promise<void>;
  exists(uri: string): Promise<boolean>;
  /** Reads a whole object with its version; throws `ObjectNotFound` when it does not exist. */
  getVersioned(uri: string): Promise<VersionedObject>;
  /** Writes one small object under a condition; answers the new version; throws `PreconditionFailed`. */
  putIf(uri: string, body: string | Uint8Array, condition: WriteCondition): Promise<string>;
}

export class ObjectNotFound extends Error {
  override readonly name = 'ObjectNotFound' as const;
  constructor(readonly uri: string) {
    super(`No object at ${uri}`);
  }
}

/** A conditional write's condition did not hold (S3: 412 PreconditionFailed or 409 ConditionalRequestConflict). */
export class PreconditionFailed extends Error {
  override readonly name = 'PreconditionFailed' as const;
  constructor(
    readonly uri: string,
    readonly condition: WriteCondition,
  ) {
    super('ifNoneMatch' in condition ? `An object already exists at ${uri}` : `The object at ${uri} is no longer at version ${condition.ifMatch}`);
  }
}

export function parseS3Uri(uri: string): { bucket: string; key: string } {
  const match = /^s3:\/\/([^/]+)\/?(.*)$/.exec(uri);
  if (!match) throw new Error(`Not an s3:// URI: ${uri}`);
  return { bucket: match[1]!, key: match[2]! };
}

export function s3Uri(bucket: string, ...keyParts: string[]): string {
  return `s3://${bucket}/${keyParts.join('/')}`;
}
