// The visitor's choice of model pack, remembered across visits: built-in and URL choices in
// localStorage, a local folder's FileSystemDirectoryHandle in IndexedDB (handles are storable;
// reading again needs the user's permission, asked for with a click when the browser requires it).
import type { PackRef } from '../protocol.ts';

const KEY = 'lavie.pack';
const DB = 'lavie-web-settings';

function idb<T>(mode: IDBTransactionMode, fn: (s: IDBObjectStore) => IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    const open = indexedDB.open(DB, 1);
    open.onupgradeneeded = () => open.result.createObjectStore('kv');
    open.onerror = () => reject(open.error);
    open.onsuccess = () => {
      const db = open.result;
      const t = db.transaction('kv', mode);
      const r = fn(t.objectStore('kv'));
      t.oncomplete = () => { db.close(); resolve(r.result); };
      t.onerror = () => { db.close(); reject(t.error); };
    };
  });
}

/** Remember `ref` (a local folder chosen with <input webkitdirectory> cannot be reopened: only its name is kept). */
export async function rememberPack(ref: PackRef): Promise<void> {
  try {
    const stored = ref.kind === 'local' ? { kind: 'local', name: ref.name, handle: !!ref.dir } : ref;
    localStorage.setItem(KEY, JSON.stringify(stored));
    if (ref.kind === 'local' && ref.dir) await idb('readwrite', (s) => s.put(ref.dir, 'dir'));
  } catch {
    // storage blocked (e.g. some private modes): the choice simply is not remembered
  }
}

/** The remembered choice (local folders without a stored handle come back without files). */
export function rememberedPack(): PackRef | null {
  try {
    const v = JSON.parse(localStorage.getItem(KEY) ?? 'null') as { kind?: string; baseUrl?: unknown; name?: unknown } | null;
    if (v?.kind === 'builtin') return { kind: 'builtin' };
    if (v?.kind === 'url' && typeof v.baseUrl === 'string') return { kind: 'url', baseUrl: v.baseUrl };
    if (v?.kind === 'local' && typeof v.name === 'string') return { kind: 'local', name: v.name };
    if (v?.kind === 'stored' && typeof (v as { key?: unknown }).key === 'string' && typeof v.name === 'string') return { kind: 'stored', key: (v as { key: string }).key, name: v.name };
  } catch {
    // unreadable: fall back to the default
  }
  return null;
}

type PermissionHandle = FileSystemDirectoryHandle & { queryPermission?(o: { mode: 'read' }): Promise<PermissionState>; requestPermission?(o: { mode: 'read' }): Promise<PermissionState> };

/** The remembered folder handle, if the browser still lets us read it; `ask` may prompt (needs a click). */
export async function rememberedFolder(ask: boolean): Promise<FileSystemDirectoryHandle | null> {
  try {
    const dir = (await idb('readonly', (s) => s.get('dir') as IDBRequest<PermissionHandle | undefined>)) ?? null;
    if (!dir) return null;
    const state = (await dir.queryPermission?.({ mode: 'read' })) ?? 'granted';
    if (state === 'granted') return dir;
    if (ask && (await dir.requestPermission?.({ mode: 'read' })) === 'granted') return dir;
  } catch {
    // handle gone or not storable here
  }
  return null;
}

/** showDirectoryPicker where the browser has it (Chromium); otherwise the caller uses <input webkitdirectory>. */
export async function pickFolder(): Promise<FileSystemDirectoryHandle | null> {
  const picker = (globalThis as { showDirectoryPicker?: (o?: { mode?: 'read'; id?: string }) => Promise<FileSystemDirectoryHandle> }).showDirectoryPicker;
  if (!picker) return null;
  return picker({ mode: 'read', id: 'lavie-pack' });
}

export const canPickFolder = () => typeof (globalThis as { showDirectoryPicker?: unknown }).showDirectoryPicker === 'function';
