/** A folder object store in a fresh temp directory per test, for tests that read and write objects. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FolderObjectStore } from '../../shared/adapters/folder-store';
import { perTestFixture } from '../per-test-fixture';

/** A new store under a temp folder named `prefix…` for each test of the enclosing `describe`; the folder is removed after it. */
export function useTempFolderStore(prefix: string): { readonly root: string; readonly store: FolderObjectStore } {
  return perTestFixture(
    'useTempFolderStore: the store',
    async () => {
      const root = await mkdtemp(join(tmpdir(), prefix));
      return { root, store: new FolderObjectStore(root) };
    },
    ({ root }) => rm(root, { recursive: true, force: true }),
  );
}
