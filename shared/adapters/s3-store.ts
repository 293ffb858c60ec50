/**
 * The S3 object store. Writes stream through `@aws-sdk/lib-storage` Upload (multipart above 5 MiB,
 * parts of 8 MiB, at most 4 in flight: memory stays flat whatever the object size); reads stream the
 * body; listings follow every page. The client is created once per container.
 */
import { Readable } from 'node:stream';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  NoSuchKey,
  NotFound,
  S3Client,
  paginateListObjectsV2,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { ObjectNotFound, parseS3Uri, type ObjectBody, type ObjectInfo, type ObjectStore } from '../ports/storage';
import { traced } from '../observability';

const PART_SIZE = 8 * 1024 * 1024;
const QUEUE_SIZE = 4;

function isMissing(error: unknown): boolean {
  if (error instanceof NoSuchKey || error instanceof NotFound) return true;
  const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e?.name === 'NoSuchKey' || e?.name === 'NotFound' || e?.$metadata?.httpStatusCode === 404;
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
    const { bucket, key } = parseS3Uri(uri);
    let body: unknown;
    try {
      body = (await this.client.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body;
    } catch (error) {
      if (isMissing(error)) throw new ObjectNotFound(uri);
      throw error;
    }
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
