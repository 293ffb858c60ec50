/**
 * S3ObjectStore with the real S3 client against moto_server on 127.0.0.1: the same port contract
 * as the folder store, including >1000-object listings (pagination) and multipart streamed uploads.
 */
import { afterAll, beforeAll } from 'vitest';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { S3ObjectStore } from '../../../shared/adapters/s3-store';
import { objectStoreContract } from '../object-store-contract';
import { startMoto, type MotoServer } from './moto';

let moto: MotoServer;
let client: S3Client;
let buckets = 0;
const operations: string[] = [];

beforeAll(async () => {
  moto = await startMoto();
  client = new S3Client(moto.clientConfig);
  // Records every command the adapter sends, to prove multipart upload and paging really happened.
  client.middlewareStack.add(
    (next, context) => async (args) => {
      operations.push(String(context.commandName));
      return next(args);
    },
    { step: 'initialize', name: 'recordOperations' },
  );
});

afterAll(async () => {
  client?.destroy();
  await moto?.stop();
});

objectStoreContract('S3ObjectStore on moto_server (real S3 client)', {
  async fresh() {
    const bucket = `contract-${++buckets}`;
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
    operations.length = 0;
    return { store: new S3ObjectStore(client), bucket };
  },
  operations: () => [...operations],
});
