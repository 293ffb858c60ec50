/**
 * The ObjectStore port's contract as a reusable suite: the folder store and the S3 store
 * (against moto) must pass the same checks, so the pipeline cannot tell them apart.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ObjectNotFound, PreconditionFailed, type ObjectStore } from '../../shared/ports/storage';

export interface ContractTarget {
  /** A store and a bucket that exists in it (empty), fresh for each call. */
  fresh(): Promise<{ store: ObjectStore; bucket: string }>;
  /** Operation names the adapter sent since `fresh()` (S3 only; the folder store has none). */
  operations?(): string[];
}

const MiB = 1 << 20;

async function collect(stream: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks);
}

/** `size` deterministic bytes in 1 MiB chunks, generated lazily (never held whole by the producer). */
async function* generated(size: number, hash: ReturnType<typeof createHash>): AsyncIterable<Uint8Array> {
  for (let offset = 0, n = 0; offset < size; offset += MiB, n++) {
    const chunk = Buffer.alloc(Math.min(MiB, size - offset), `chunk-${n}|`);
    hash.update(chunk);
    yield chunk;
  }
}

async function inParallel<T>(items: readonly T[], width: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) await work(items[next++]!);
    }),
  );
}

export function objectStoreContract(label: string, target: ContractTarget): void {
  describe(`ObjectStore contract: ${label}`, () => {
    it('round-trips strings, bytes and streamed bodies through put/get/read', async () => {
      // Prepare
      const { store, bucket } = await target.fresh();
      const text = 'item_a,2024-01-01,1.5\nitem_b,2024-01-01,"quoted, ünïcode"\n';
      // Act
      await store.put(`s3://${bucket}/data/target.csv`, text);
      await store.put(`s3://${bucket}/data/bytes.bin`, new Uint8Array([0, 1, 2, 255]));
      await store.put(`s3://${bucket}/data/streamed.csv`, (async function* () {
        yield 'a,';
        yield new TextEncoder().encode('b\n');
      })());
      await store.put(`s3://${bucket}/data/empty.csv`, '');
      // Assess
      expect((await store.get(`s3://${bucket}/data/target.csv`)).toString('utf8')).toBe(text);
      expect([...(await store.get(`s3://${bucket}/data/bytes.bin`))]).toEqual([0, 1, 2, 255]);
      expect((await collect(store.read(`s3://${bucket}/data/streamed.csv`))).toString()).toBe('a,b\n');
      expect((await store.get(`s3://${bucket}/data/empty.csv`)).length).toBe(0);
    });

    it('replaces an object on a second put', async () => {
      const { store, bucket } = await target.fresh();
      await store.put(`s3://${bucket}/x.csv`, 'first version, longer');
      await store.put(`s3://${bucket}/x.csv`, 'second');
      expect((await store.get(`s3://${bucket}/x.csv`)).toString()).toBe('second');
    });

    it('throws ObjectNotFound for a missing object on get and read', async () => {
      const { store, bucket } = await target.fresh();
      const missing = `s3://${bucket}/nothing/here.csv`;
      await expect(store.get(missing)).rejects.toBeInstanceOf(ObjectNotFound);
      await expect(collect(store.read(missing))).rejects.toMatchObject({ name: 'ObjectNotFound', uri: missing });
    });

    it('keeps keys with spaces, plus, equals and unicode intact', async () => {
      const { store, bucket } = await target.fresh();
      const uri = `s3://${bucket}/exports/a b+c=d/ünï ✓.csv`;
      await store.put(uri, 'ok');
      expect((await store.get(uri)).toString()).toBe('ok');
      expect(await store.exists(uri)).toBe(true);
      expect((await store.list(`s3://${bucket}/exports/a b+c=d/`)).map((o) => o.uri)).toEqual([uri]);
    });

    it('lists every object under a key prefix, all pages, in key order, with sizes', async () => {
      // Prepare: more than one S3 page (1000 keys), plus neighbours the prefix must not match
      const { store, bucket } = await target.fresh();
      const keys = Array.from({ length: 1_005 }, (_, i) => `run/exports/F1/part${String(i).padStart(4, '0')}.csv`);
      await inParallel([...keys].reverse(), 16, (key) => store.put(`s3://${bucket}/${key}`, key));
      await store.put(`s3://${bucket}/run/exports/F10/part0000.csv`, 'other forecast, same name start');
      await store.put(`s3://${bucket}/run/exports/F1.csv`, 'a sibling file');
      // Act
      const listed = await store.list(`s3://${bucket}/run/exports/F1/`);
      const loose = await store.list(`s3://${bucket}/run/exports/F1`);
      // Assess
      expect(listed.map((o) => o.uri)).toEqual(keys.map((k) => `s3://${bucket}/${k}`));
      expect(listed.every((o, i) => o.size === keys[i]!.length)).toBe(true);
      expect(loose.length).toBe(1_005 + 2);
      expect(await store.list(`s3://${bucket}/nope/`)).toEqual([]);
      if (target.operations) {
        // 1,007 keys need two pages each time: the adapter must have followed the continuation token.
        expect(target.operations().filter((o) => o === 'ListObjectsV2Command').length).toBeGreaterThanOrEqual(5);
      }
    });

    it('streams a body larger than 5 MiB (multipart on S3) and reads it back byte for byte', async () => {
      // Prepare
      const { store, bucket } = await target.fresh();
      const size = 12 * MiB + 12_345;
      const written = createHash('sha256');
      // Act
      await store.put(`s3://${bucket}/big/target.csv`, generated(size, written));
      const readBack = createHash('sha256');
      let total = 0;
      for await (const chunk of store.read(`s3://${bucket}/big/target.csv`)) {
        readBack.update(chunk);
        total += chunk.length;
      }
      // Assess
      expect(total).toBe(size);
      expect(readBack.digest('hex')).toBe(written.digest('hex'));
      expect((await store.list(`s3://${bucket}/big/`))[0]?.size).toBe(size);
      if (target.operations) {
        const ops = target.operations();
        expect(ops).toContain('CreateMultipartUploadCommand');
        expect(ops.filter((o) => o === 'UploadPartCommand').length).toBeGreaterThanOrEqual(2);
        expect(ops).toContain('CompleteMultipartUploadCommand');
      }
    });

    it('deletes objects; deleting a missing one is not an error; exists tells', async () => {
      const { store, bucket } = await target.fresh();
      const uri = `s3://${bucket}/d/one.csv`;
      await store.put(uri, '1');
      expect(await store.exists(uri)).toBe(true);
      expect(await store.exists(`s3://${bucket}/d/`)).toBe(false);
      expect(await store.exists(`s3://${bucket}/d/one`)).toBe(false);
      await store.delete(uri);
      await store.delete(uri);
      await store.delete(`s3://${bucket}/never/was.csv`);
      expect(await store.exists(uri)).toBe(false);
      await expect(store.get(uri)).rejects.toBeInstanceOf(ObjectNotFound);
      expect(await store.list(`s3://${bucket}/d/`)).toEqual([]);
    });

    it('creates once with ifNoneMatch and swaps only on the current version with ifMatch', async () => {
      // Prepare
      const { store, bucket } = await target.fresh();
      const uri = `s3://${bucket}/docs/one.json`;
      // Act
      const first = await store.putIf(uri, '{"n":1}', { ifNoneMatch: '*' });
      const again = store.putIf(uri, '{"n":9}', { ifNoneMatch: '*' });
      // Assess
      await expect(again).rejects.toBeInstanceOf(PreconditionFailed);
      const read = await store.getVersioned(uri);
      expect(read.body.toString()).toBe('{"n":1}');
      expect(read.version).toBe(first);
      const second = await store.putIf(uri, '{"n":2}', { ifMatch: first });
      expect(second).not.toBe(first);
      await expect(store.putIf(uri, '{"n":3}', { ifMatch: first })).rejects.toMatchObject({ name: 'PreconditionFailed', uri });
      await expect(store.putIf(`s3://${bucket}/docs/missing.json`, '{}', { ifMatch: first })).rejects.toBeInstanceOf(PreconditionFailed);
      expect((await store.getVersioned(uri)).body.toString()).toBe('{"n":2}');
      expect(await store.list(`s3://${bucket}/docs/`)).toEqual([{ uri, size: 7 }]);
      await expect(store.getVersioned(`s3://${bucket}/docs/missing.json`)).rejects.toBeInstanceOf(ObjectNotFound);
    });

    it('lets exactly one of many concurrent create-once writers win, and loses no compare-and-swap increment', async () => {
      // Prepare
      const { store, bucket } = await target.fresh();
      const created = `s3://${bucket}/race/name.json`;
      const counter = `s3://${bucket}/race/counter.json`;
      await store.putIf(counter, '0', { ifNoneMatch: '*' });
      const increment = async () => {
        for (;;) {
          const { body, version } = await store.getVersioned(counter);
          try {
            await store.putIf(counter, String(Number(body.toString()) + 1), { ifMatch: version });
            return;
          } catch (error) {
            if (!(error instanceof PreconditionFailed)) throw error;
          }
        }
      };
      // Act
      const creators = await Promise.allSettled(Array.from({ length: 12 }, (_, i) => store.putIf(created, `writer ${i}`, { ifNoneMatch: '*' })));
      await Promise.all(Array.from({ length: 8 }, async () => {
        for (let i = 0; i < 5; i++) await increment();
      }));
      // Assess
      const winners = creators.filter((c) => c.status === 'fulfilled');
      expect(winners).toHaveLength(1);
      expect(creators.filter((c) => c.status === 'rejected').every((c) => (c as PromiseRejectedResult).reason instanceof PreconditionFailed)).toBe(true);
      expect((await store.get(created)).toString()).toMatch(/^writer \d+$/);
      expect((await store.get(counter)).toString()).toBe('40');
    });
  });
}
