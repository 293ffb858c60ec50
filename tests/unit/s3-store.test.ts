import { Readable } from 'node:stream';
import { beforeEach, describe, expect, it } from 'vitest';
import { mockClient } from 'aws-sdk-client-mock';
import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  NoSuchKey,
  NotFound,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { S3ObjectStore } from '../../shared/adapters/s3-store';
import { ObjectNotFound, PreconditionFailed } from '../../shared/ports/storage';

const s3 = mockClient(S3Client);
const MiB = 1 << 20;

async function* chunks(count: number, size: number): AsyncIterable<Uint8Array> {
  for (let i = 0; i < count; i++) yield Buffer.alloc(size, i % 256);
}

describe('Class: S3ObjectStore (S3 client mocked)', () => {
  let store: S3ObjectStore;
  beforeEach(() => {
    s3.reset();
    store = new S3ObjectStore(new S3Client({ region: 'us-east-1' }));
  });

  it('puts a small object with one PutObject', async () => {
    // Prepare
    s3.on(PutObjectCommand).resolves({});

    // Act
    await store.put('s3://bucket/a/target.csv', 'x,1\n');

    // Assess
    const calls = s3.commandCalls(PutObjectCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.args[0].input).toMatchObject({ Bucket: 'bucket', Key: 'a/target.csv' });
  });

  it('puts a small streamed body of string chunks (the CSV writer) as one object', async () => {
    // Prepare
    s3.on(PutObjectCommand).resolves({});
    async function* csv(): AsyncIterable<string> {
      yield '2024-01-01,a,1\n';
      yield '2024-01-02,a,2\n';
    }

    // Act
    await store.put('s3://bucket/shop/20240301/target.csv', csv());

    // Assess
    const body = s3.commandCalls(PutObjectCommand)[0]!.args[0].input.Body as Uint8Array;
    expect(Buffer.from(body).toString()).toBe('2024-01-01,a,1\n2024-01-02,a,2\n');
  });

  it('streams a large body as a multipart upload (8 MiB parts)', async () => {
    // Prepare
    s3.on(CreateMultipartUploadCommand).resolves({ UploadId: 'u1' });
    s3.on(UploadPartCommand).callsFake((input: { PartNumber: number }) => ({ ETag: `e${input.PartNumber}` }));
    s3.on(CompleteMultipartUploadCommand).resolves({});

    // Act: 20 MiB from a generator
    await store.put('s3://bucket/big.csv', chunks(20, MiB));

    // Assess
    expect(s3.commandCalls(UploadPartCommand)).toHaveLength(3);
    const complete = s3.commandCalls(CompleteMultipartUploadCommand)[0]!.args[0].input;
    expect(complete.MultipartUpload?.Parts?.map((p) => p.PartNumber)).toEqual([1, 2, 3]);
    expect(s3.commandCalls(PutObjectCommand)).toHaveLength(0);
  });

  it('lists every page of a prefix, in key order', async () => {
    // Prepare
    s3.on(ListObjectsV2Command, { Bucket: 'bucket', Prefix: 'exp/' }).resolves({ Contents: [{ Key: 'exp/b_part1.csv', Size: 3 }], IsTruncated: true, NextContinuationToken: 't1' });
    s3.on(ListObjectsV2Command, { Bucket: 'bucket', Prefix: 'exp/', ContinuationToken: 't1' }).resolves({ Contents: [{ Key: 'exp/a_part0.csv', Size: 2 }], IsTruncated: false });

    // Act
    const listed = await store.list('s3://bucket/exp/');

    // Assess
    expect(listed).toEqual([
      { uri: 's3://bucket/exp/a_part0.csv', size: 2 },
      { uri: 's3://bucket/exp/b_part1.csv', size: 3 },
    ]);
    expect(s3.commandCalls(ListObjectsV2Command)).toHaveLength(2);
  });

  it('reads a streamed body and maps a missing key to ObjectNotFound', async () => {
    // Prepare
    s3.on(GetObjectCommand, { Key: 'k' }).resolves({ Body: Readable.from([Buffer.from('ab'), Buffer.from('c')]) as never });
    s3.on(GetObjectCommand, { Key: 'missing' }).rejects(new NoSuchKey({ message: 'no', $metadata: {} }));

    // Act + Assess
    expect((await store.get('s3://bucket/k')).toString()).toBe('abc');
    await expect(store.get('s3://bucket/missing')).rejects.toBeInstanceOf(ObjectNotFound);
  });

  it('answers exists() from HeadObject and tolerates deleting a missing object', async () => {
    // Prepare
    s3.on(HeadObjectCommand, { Key: 'yes' }).resolves({});
    s3.on(HeadObjectCommand, { Key: 'no' }).rejects(new NotFound({ message: 'no', $metadata: {} }));
    s3.on(DeleteObjectCommand).resolves({});

    // Act + Assess
    expect(await store.exists('s3://bucket/yes')).toBe(true);
    expect(await store.exists('s3://bucket/no')).toBe(false);
    await store.delete('s3://bucket/no');
    expect(s3.commandCalls(DeleteObjectCommand)[0]!.args[0].input).toEqual({ Bucket: 'bucket', Key: 'no' });
  });

  it('sends conditional writes as one PutObject with IfNoneMatch / IfMatch and maps 412 and 409 to PreconditionFailed', async () => {
    // Prepare
    const failed = Object.assign(new Error('At least one of the pre-conditions you specified did not hold'), { name: 'PreconditionFailed', $metadata: { httpStatusCode: 412 } });
    const conflict = Object.assign(new Error('A conflicting conditional operation is currently in progress'), { name: 'ConditionalRequestConflict', $metadata: { httpStatusCode: 409 } });
    s3.on(PutObjectCommand, { Key: 'new' }).resolves({ ETag: '"v1"' });
    s3.on(PutObjectCommand, { Key: 'taken' }).rejects(failed);
    s3.on(PutObjectCommand, { Key: 'busy' }).rejects(conflict);
    s3.on(GetObjectCommand, { Key: 'new' }).resolves({ Body: Readable.from([Buffer.from('{}')]) as never, ETag: '"v1"' });

    // Act
    const version = await store.putIf('s3://bucket/new', '{}', { ifNoneMatch: '*' });
    const read = await store.getVersioned('s3://bucket/new');

    // Assess
    expect(version).toBe('"v1"');
    expect(read).toEqual({ body: Buffer.from('{}'), version: '"v1"' });
    expect(s3.commandCalls(PutObjectCommand)[0]!.args[0].input).toEqual({ Bucket: 'bucket', Key: 'new', Body: '{}', IfNoneMatch: '*' });
    await expect(store.putIf('s3://bucket/taken', '{}', { ifMatch: '"v0"' })).rejects.toBeInstanceOf(PreconditionFailed);
    expect(s3.commandCalls(PutObjectCommand)[1]!.args[0].input).toMatchObject({ Key: 'taken', IfMatch: '"v0"' });
    await expect(store.putIf('s3://bucket/busy', '{}', { ifMatch: '"v0"' })).rejects.toMatchObject({ name: 'PreconditionFailed', uri: 's3://bucket/busy' });
  });
});
