import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { FolderObjectStore } from '../../shared/adapters/folder-store';
import { objectStoreContract } from './object-store-contract';

const roots: string[] = [];
afterAll(async () => {
  await Promise.all(roots.map((r) => rm(r, { recursive: true, force: true })));
});

objectStoreContract('FolderObjectStore', {
  async fresh() {
    const root = await mkdtemp(join(tmpdir(), 'folder-store-'));
    roots.push(root);
    return { store: new FolderObjectStore(root), bucket: 'bucket' };
  },
});
