/**
 * The object-storage port. Objects are addressed by `s3://bucket/key` URIs everywhere,
 * so the pipeline state is identical on S3 and on the local folder store.
 */
export type ObjectBody = string | Uint8Array | AsyncIterable<string | Uint8Array>;

export interface ObjectInfo {
  readonly uri: string;
  readonly size: number;
}

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
}

export class ObjectNotFound extends Error {
  override readonly name = 'ObjectNotFound' as const;
  constructor(readonly uri: string) {
    super(`No object at ${uri}`);
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
