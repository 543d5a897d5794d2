// The store this browser offers: OPFS, else Cache Storage, else memory (nothing survives a reload).
import { cacheStore, cacheStoreAvailable } from './cache-storage.ts';
import { opfsAvailable, opfsStore } from './opfs.ts';
import { memoryStore } from './memory.ts';
import type { PackStore } from './pack-store.ts';

let store: PackStore | null = null;

export function defaultStore(): PackStore {
  store ??= opfsAvailable() ? opfsStore() : cacheStoreAvailable() ? cacheStore() : memoryStore();
  return store;
}

/** navigator.storage.estimate, where the platform has it. */
export function storageEstimate(): (() => Promise<{ usage?: number; quota?: number }>) | undefined {
  const s = typeof navigator !== 'undefined' ? navigator.storage : undefined;
  return s?.estimate ? () => s.estimate() : undefined;
}
