/**
 * The embedded object store: `s3://bucket/key` lives at `<root>/bucket/key`.
 * Writes go to a temporary file renamed into place, so a reader never sees half an object.
 *
 * Conditional writes (several engine processes sharing one folder): an object's version is the MD5
 * of its bytes, as S3's ETag of a single-part object. A conditional write and a delete hold the
 * object's lock — a `<key>.lock.partial` file created with O_EXCL — while they compare and rename;
 * the file is the lock, so it holds across processes. A lock left by a process that died holding
 * it (its critical section is one read and one rename) is broken after LOCK_STALE_MS.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { createHash, randomUUID } from 'node:crypto';
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

const LOCK_STALE_MS = 10_000;
const LOCK_RETRY_MS = 2;

const versionOf = (bytes: Uint8Array) => `"${createHash('md5').update(bytes).digest('hex')}"`;
const isMissingFile = (error: unknown) => (error as NodeJS.ErrnoException).code === 'ENOENT';

/** Holds `path`'s lock file while `work` runs; waits (and breaks a stale lock) until it gets it. */
async function withLock<T>(path: string, work: () => Promise<T>): Promise<T> {
  const lock = `${path}.lock.partial`;
  for (;;) {
    try {
      await (await open(lock, 'wx')).close();
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const age = await stat(lock).then((s) => Date.now() - s.mtimeMs, () => 0);
      if (age > LOCK_STALE_MS) await rm(lock, { force: true });
      else await new Promise((resolve) => setTimeout(resolve, LOCK_RETRY_MS * (1 + Math.random())));
    }
  }
  try {
    return await work();
  } finally {
    await rm(lock, { force: true });
  }
}

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
        else if (!entry.name.endsWith('.partial')) { // in-flight writes and locks are not objects
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
    const path = this.pathOf(uri);
    // Under the lock: a compare-and-swap that already compared must not rename the object back.
    if (await this.exists(uri)) await withLock(path, () => rm(path, { force: true }));
  }

  async getVersioned(uri: string): Promise<VersionedObject> {
    const body = await this.get(uri);
    return { body, version: versionOf(body) };
  }

  async putIf(uri: string, body: string | Uint8Array, condition: WriteCondition): Promise<string> {
    const path = this.pathOf(uri);
    const bytes = typeof body === 'string' ? Buffer.from(body) : body;
    await mkdir(dirname(path), { recursive: true });
    const temporary = `${path}.${randomUUID()}.partial`;
    await writeFile(temporary, bytes);
    try {
      await withLock(path, async () => {
        const current = await readFile(path).then(versionOf, (error: unknown) => (isMissingFile(error) ? undefined : Promise.reject(error)));
        const holds = 'ifNoneMatch' in condition ? current === undefined : current === condition.ifMatch;
        if (!holds) throw new PreconditionFailed(uri, condition);
        await rename(temporary, path);
      });
    } finally {
      await rm(temporary, { force: true });
    }
    return versionOf(bytes);
  }

  async exists(uri: string): Promise<boolean> {
    try {
      return (await stat(this.pathOf(uri))).isFile();
    } catch {
      return false;
    }
  }
}
