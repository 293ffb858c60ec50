/**
 * The S3 object store. Writes stream through `@aws-sdk/lib-storage` Upload (multipart above 5 MiB,
 * parts of 8 MiB, at most 4 in flight: memory stays flat whatever the object size); reads stream the
 * body; listings follow every page; conditional writes (the engine's documents) are one PutObject
 * with If-None-Match / If-Match. The client is created once per container.
 */
import { Readable } from 'node:stream';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  NoSuchKey,
  NotFound,
  PutObjectCommand,
  S3Client,
  paginateListObjectsV2,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import {
  ObjectNotFound,
  PreconditionFailed,
  parseS3Uri,
  type ObjectBody,
  type ObjectInfo,
  type ObjectStore,
  type VersionedObject,
  type WriteCondition,
} from '../ports/storage';
import { traced } from '../observability';

const PART_SIZE = 8 * 1024 * 1024;
const QUEUE_SIZE = 4;

function isMissing(error: unknown): boolean {
  if (error instanceof NoSuchKey || error instanceof NotFound) return true;
  const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e?.name === 'NoSuchKey' || e?.name === 'NotFound' || e?.$metadata?.httpStatusCode === 404;
}

/**
 * A conditional PutObject that lost: 412 when the condition did not hold, 409 when another
 * conditional write to the key was in flight; with If-Match, 404 when the object is gone.
 */
function isConditionLost(error: unknown, condition: WriteCondition): boolean {
  const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
  if (e?.name === 'PreconditionFailed' || e?.name === 'ConditionalRequestConflict') return true;
  const status = e?.$metadata?.httpStatusCode;
  return status === 412 || status === 409 || ('ifMatch' in condition && isMissing(error));
}

/** A GetObject body, whichever shape the SDK (or a mock) gives it, as byte chunks. */
async function* bodyChunks(body: unknown): AsyncIterable<Uint8Array> {
  if (body === undefined || body === null) return;
  if (body instanceof Uint8Array || typeof body === 'string') {
    yield typeof body === 'string' ? Buffer.from(body) : body;
    return;
  }
  if (typeof (body as AsyncIterable<Uint8Array>)[Symbol.asyncIterator] === 'function') {
    yield* body as AsyncIterable<Uint8Array>;
    return;
  }
  const sdkBody = body as { transformToByteArray?: () => Promise<Uint8Array> };
  if (sdkBody.transformToByteArray) yield await sdkBody.transformToByteArray();
}

export class S3ObjectStore implements ObjectStore {
  constructor(readonly client: S3Client = traced(new S3Client({}))) {}

  async put(uri: string, body: ObjectBody): Promise<void> {
    const { bucket, key } = parseS3Uri(uri);
    const payload = typeof body === 'string' || body instanceof Uint8Array ? body : Readable.from(body);
    const upload = new Upload({
      client: this.client,
      params: { Bucket: bucket, Key: key, Body: payload },
      partSize: PART_SIZE,
      queueSize: QUEUE_SIZE,
      leavePartsOnError: false,
    });
    await upload.done();
  }

  async get(uri: string): Promise<Buffer> {
    const chunks: Buffer[] = [];
    for await (const chunk of this.read(uri)) chunks.push(Buffer.from(chunk));
    return Buffer.concat(chunks);
  }

  async *read(uri: string): AsyncIterable<Uint8Array> {
    yield* bodyChunks((await this.getObject(uri)).Body);
  }

  async getVersioned(uri: string): Promise<VersionedObject> {
    const response = await this.getObject(uri);
    const chunks: Buffer[] = [];
    for await (const chunk of bodyChunks(response.Body)) chunks.push(Buffer.from(chunk));
    return { body: Buffer.concat(chunks), version: response.ETag ?? '' };
  }

  async putIf(uri: string, body: string | Uint8Array, condition: WriteCondition): Promise<string> {
    const { bucket, key } = parseS3Uri(uri);
    const when = 'ifNoneMatch' in condition ? { IfNoneMatch: condition.ifNoneMatch } : { IfMatch: condition.ifMatch };
    try {
      const response = await this.client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ...when }));
      return response.ETag ?? '';
    } catch (error) {
      if (isConditionLost(error, condition)) throw new PreconditionFailed(uri, condition);
      throw error;
    }
  }

  private async getObject(uri: string) {
    const { bucket, key } = parseS3Uri(uri);
    try {
      return await this.client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    } catch (error) {
      if (isMissing(error)) throw new ObjectNotFound(uri);
      throw error;
    }
  }

  async list(prefixUri: string): Promise<ObjectInfo[]> {
    const { bucket, key: prefix } = parseS3Uri(prefixUri);
    const found: ObjectInfo[] = [];
    for await (const page of paginateListObjectsV2({ client: this.client }, { Bucket: bucket, Prefix: prefix })) {
      for (const object of page.Contents ?? []) {
        if (object.Key !== undefined) found.push({ uri: `s3://${bucket}/${object.Key}`, size: object.Size ?? 0 });
      }
    }
    return found.sort((a, b) => (a.uri < b.uri ? -1 : a.uri > b.uri ? 1 : 0));
  }

  async delete(uri: string): Promise<void> {
    const { bucket, key } = parseS3Uri(uri);
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
    } catch (error) {
      if (!isMissing(error)) throw error;
    }
  }

  async exists(uri: string): Promise<boolean> {
    const { bucket, key } = parseS3Uri(uri);
    try {
      await this.client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
      return true;
    } catch (error) {
      if (isMissing(error)) return false;
      throw error;
    }
  }
}
