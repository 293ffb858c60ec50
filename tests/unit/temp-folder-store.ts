/** A folder object store in a fresh temp directory per test, for tests that read and write objects. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach } from 'vitest';
import { FolderObjectStore } from '../../shared/adapters/folder-store';

/**
 * Registers, in the enclosing `describe`, a new store under a temp folder named `prefix…` before
 * each test and the folder's removal after it; `.store` is the current test's store.
 */
export function useTempFolderStore(prefix: string): { readonly store: FolderObjectStore } {
  let root: string | undefined;
  let store: FolderObjectStore | undefined;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), prefix));
    store = new FolderObjectStore(root);
  });
  afterEach(async () => {
    if (root) await rm(root, { recursive: true, force: true });
  });
  return {
    get store(): FolderObjectStore {
      if (!store) throw new Error('useTempFolderStore: the store exists only inside a test');
      return store;
    },
  };
}
