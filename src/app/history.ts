// History, kept in IndexedDB so nothing is lost on a reload, a crash or a cancelled later stage:
// finished videos with the request that made them (each stage's the moment it exists), and runs a
// reload, a closed tab or a crash interrupted (their request and how far they got, to run again).
import type { GenerateRequest, Stage, VideoMeta } from '../protocol.ts';
import type { RunMarker } from './interrupted.ts';

interface Saved {
  id: string;
  /** A video: when it was saved; an interrupted run: when it was last seen running. */
  createdAt: number;
  request: Omit<GenerateRequest, 'id'>;
  /** The generation it belongs to: a request's stages (base, smoother, high resolution) share it. */
  runId?: string;
}

export interface VideoEntry extends Saved {
  stage: Stage;
  meta: VideoMeta;
  video: Blob;
  /** A small still of the video (its middle frame) for the gallery; absent if it could not be drawn. */
  poster?: Blob;
  interrupted?: undefined;
}

/** A run that ended without finishing because the page went away. */
export interface InterruptedEntry extends Saved {
  /** The stage it was running (its earlier stages' videos, if any, are entries of their own). */
  stage: Stage;
  interrupted: { startedAt: number; progress?: RunMarker['progress'] };
  video?: undefined;
  meta?: undefined;
  poster?: undefined;
}

export type HistoryEntry = VideoEntry | InterruptedEntry;

/** The History entry of an interrupted run: its id comes from the run, so recording it twice keeps one. */
export function interruptedEntry(m: RunMarker): InterruptedEntry {
  return {
    id: `interrupted:${m.runId}`, createdAt: m.beat, request: m.request, runId: m.runId, stage: m.progress?.stage ?? 'base',
    interrupted: { startedAt: m.startedAt, ...(m.progress ? { progress: m.progress } : {}) },
  };
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

export async function addToHistory(e: Omit<VideoEntry, 'id' | 'createdAt'>): Promise<VideoEntry> {
  const entry: VideoEntry = { ...e, id: crypto.randomUUID(), createdAt: Date.now() };
  await tx('readwrite', (s) => s.put(entry));
  return entry;
}

export async function putInHistory(entry: HistoryEntry): Promise<void> {
  await tx('readwrite', (s) => s.put(entry));
}

/** Newest first. */
export async function listHistory(): Promise<HistoryEntry[]> {
  const all = await tx<HistoryEntry[]>('readonly', (s) => s.getAll() as IDBRequest<HistoryEntry[]>);
  return all.sort((a, b) => b.createdAt - a.createdAt);
}

export async function removeFromHistory(id: string): Promise<void> {
  await tx('readwrite', (s) => s.delete(id));
}
