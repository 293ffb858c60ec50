/**
 * The embedded object store: `s3://bucket/key` lives at `<root>/bucket/key`.
 * Writes go to a temporary file renamed into place, so a reader never sees half an object.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readFile, readdir, rename, rm, stat } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { randomUUID } from 'node:crypto';
import { ObjectNotFound, parseS3Uri, type ObjectBody, type ObjectInfo, type ObjectStore } from '../ports/storage';

export class FolderObjectStore implements ObjectStore {
  constructor(readonly root: string) {}

  private pathOf(uri: string): string {
    const { bucket, key } = parseS3Uri(uri);
    const parts = [bucket, ...key.split('/')];
    if (parts.some((p) => p === '..' || p === '.')) throw new Error(`Refusing a path that leaves the store: ${uri}`);
    return join(this.root, ...parts);
  }

  async put(uri: string, body: ObjectBody): Promise<void> {
    const path = this.pathOf(uri);
    await mkdir(dirname(path), { recursive: true });
    const temporary = `${path}.${randomUUID()}.partial`;
    const source = typeof body === 'string' || body instanceof Uint8Array ? Readable.from([body]) : Readable.from(body);
    try {
      await pipeline(source, createWriteStream(temporary));
      await rename(temporary, path);
    } catch (error) {
      await rm(temporary, { force: true });
      throw error;
    }
  }

  async get(uri: string): Promise<Buffer> {
    try {
      return await readFile(this.pathOf(uri));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new ObjectNotFound(uri);
      throw error;
    }
  }

  async *read(uri: string): AsyncIterable<Uint8Array> {
    const path = this.pathOf(uri);
    try {
      await stat(path);
    } catch {
      throw new ObjectNotFound(uri);
    }
    yield* createReadStream(path, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>;
  }

  async list(prefixUri: string): Promise<ObjectInfo[]> {
    const { bucket, key: prefix } = parseS3Uri(prefixUri);
    const bucketRoot = join(this.root, bucket);
    // Walk only the deepest folder the prefix names fully, then filter by the prefix.
    const folder = prefix.includes('/') ? prefix.slice(0, prefix.lastIndexOf('/')) : '';
    const found: ObjectInfo[] = [];
    const walk = async (dir: string): Promise<void> => {
      let entries;
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
        throw error;
      }
      for (const entry of entries) {
        const full = join(dir, entry.name);
        if (entry.isDirectory()) await walk(full);
        else if (!entry.name.endsWith('.partial')) {
          const key = relative(bucketRoot, full).split(sep).join('/');
          if (!key.startsWith(prefix)) continue;
          // Deleted since readdir: like an S3 listing, the snapshot simply does not hold it.
          const size = await stat(full).then((s) => s.size, (error: NodeJS.ErrnoException) => (error.code === 'ENOENT' ? undefined : Promise.reject(error)));
          if (size !== undefined) found.push({ uri: `s3://${bucket}/${key}`, size });
        }
      }
    };
    await walk(join(bucketRoot, ...folder.split('/').filter(Boolean)));
    return found.sort((a, b) => (a.uri < b.uri ? -1 : a.uri > b.uri ? 1 : 0));
  }

  async delete(uri: string): Promise<void> {
    await rm(this.pathOf(uri), { force: true });
  }

  async exists(uri: string): Promise<boolean> {
    try {
      return (await stat(this.pathOf(uri))).isFile();
    } catch {
      return false;
    }
  }
}
