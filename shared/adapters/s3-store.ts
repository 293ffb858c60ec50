// Placeholder until the S3 adapter lands (issue 3); the signature is the contract.
import { NotImplemented } from '../errors';
import type { ObjectBody, ObjectInfo, ObjectStore } from '../ports/storage';

export class S3ObjectStore implements ObjectStore {
  put(_uri: string, _body: ObjectBody): Promise<void> { throw new NotImplemented('S3ObjectStore is not implemented yet'); }
  get(_uri: string): Promise<Buffer> { throw new NotImplemented('S3ObjectStore is not implemented yet'); }
  read(_uri: string): AsyncIterable<Uint8Array> { throw new NotImplemented('S3ObjectStore is not implemented yet'); }
  list(_prefixUri: string): Promise<ObjectInfo[]> { throw new NotImplemented('S3ObjectStore is not implemented yet'); }
  delete(_uri: string): Promise<void> { throw new NotImplemented('S3ObjectStore is not implemented yet'); }
  exists(_uri: string): Promise<boolean> { throw new NotImplemented('S3ObjectStore is not implemented yet'); }
}
