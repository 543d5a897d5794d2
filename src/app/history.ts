// Finished videos, kept in IndexedDB with the request that made them, so nothing is lost on a
// reload, a crash or a cancelled later stage. Each stage's video is saved the moment it exists.
import type { GenerateRequest, Stage, VideoMeta } from '../protocol.ts';

export interface HistoryEntry {
  id: string;
  createdAt: number;
  request: Omit<GenerateRequest, 'id'>;
  stage: Stage;
  meta: VideoMeta;
  video: Blob;
  /** The generation that made it: a request's stages (base, smoother, high resolution) share it. */
  runId?: string;
  /** A small still of the video (its middle frame) for the gallery; absent if it could not be drawn. */
  poster?: Blob;
}

const DB = 'lavie-web';
const STORE = 'history';

function open(): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(DB, 1);
    req.onupgradeneeded = () => req.result.createObjectStore(STORE, { keyPath: 'id' }).createIndex('createdAt', 'createdAt');
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

async function tx<T>(mode: IDBTransactionMode, fn: (s: IDBObjectStore) => IDBRequest<T>): Promise<T> {
  const db = await open();
  try {
    return await new Promise<T>((resolve, reject) => {
      const t = db.transaction(STORE, mode);
      const r = fn(t.objectStore(STORE));
      t.oncomplete = () => resolve(r.result);
      t.onerror = () => reject(t.error ?? r.error);
      t.onabort = () => reject(t.error ?? new Error('history transaction aborted'));
    });
  } finally {
    db.close();
  }
}

export async function addToHistory(e: Omit<HistoryEntry, 'id' | 'createdAt'>): Promise<HistoryEntry> {
  const entry: HistoryEntry = { ...e, id: crypto.randomUUID(), createdAt: Date.now() };
  await tx('readwrite', (s) => s.put(entry));
  return entry;
}

/** Newest first. */
export async function listHistory(): Promise<HistoryEntry[]> {
  const all = await tx<HistoryEntry[]>('readonly', (s) => s.getAll() as IDBRequest<HistoryEntry[]>);
  return all.sort((a, b) => b.createdAt - a.createdAt);
}

export async function removeFromHistory(id: string): Promise<void> {
  await tx('readwrite', (s) => s.delete(id));
}
