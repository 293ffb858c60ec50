import { describe, expect, it } from 'vitest';
import { useTempFolderStore } from './temp-folder-store';

describe('FolderObjectStore.list', () => {
  const fx = useTempFolderStore('folder-store-list-');

  it('lists a snapshot while objects are deleted: a deleted object is in it or not, never an error', async () => {
    // Prepare
    const uris = Array.from({ length: 400 }, (_, i) => `s3://bucket/docs/${String(i).padStart(4, '0')}.json`);
    await Promise.all(uris.map((uri) => fx.store.put(uri, '{}')));

    // Act: list again and again while every object is deleted.
    const deleting = Promise.all(uris.map((uri) => fx.store.delete(uri)));
    const listings = [];
    for (let i = 0; i < 20; i++) listings.push(await fx.store.list('s3://bucket/docs/'));
    await deleting;
    const after = await fx.store.list('s3://bucket/docs/');

    // Assess
    for (const listing of listings) expect(listing.every((o) => uris.includes(o.uri) && o.size === 2)).toBe(true);
    expect(after).toEqual([]);
  });
});
