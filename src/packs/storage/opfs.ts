// Packs in the Origin Private File System: made for multi-GB files (streamed writes, disk-backed
// File objects to read back, no 2 GB Response limit). Layout: lavie-packs/<pack>/{manifest,info}.json,
// <sha256> (verified files) and <sha256>.part (unfinished downloads).
import { isDomException } from '../../protocol/errors.ts';
import { storageError, type PackStore, type PartialWriter } from './pack-store.ts';
import type { Scratch } from './pack-sink.ts';

const ROOT = 'lavie-packs';

type SyncHandle = { write(b: Uint8Array, o: { at: number }): number; truncate(n: number): void; getSize(): number; flush(): void; close(): void };
type FileHandle = FileSystemFileHandle & { createSyncAccessHandle?: () => Promise<SyncHandle>; move?: (name: string) => Promise<void> };

export function opfsAvailable(): boolean {
  return typeof navigator !== 'undefined' && typeof navigator.storage?.getDirectory === 'function';
}

async function root(): Promise<FileSystemDirectoryHandle> {
  const top = await navigator.storage.getDirectory();
  return top.getDirectoryHandle(ROOT, { create: true });
}

async function packDir(pack: string, create = true): Promise<FileSystemDirectoryHandle | null> {
  try {
    return await (await root()).getDirectoryHandle(pack, { create });
  } catch (e) {
    if (isDomException(e, DOMException.NOT_FOUND_ERR)) return null;
    throw e;
  }
}

async function fileHandle(pack: string, name: string, create: boolean): Promise<FileHandle | null> {
  const dir = await packDir(pack, create);
  if (!dir) return null;
  try {
    return (await dir.getFileHandle(name, { create })) as FileHandle;
  } catch (e) {
    if (isDomException(e, DOMException.NOT_FOUND_ERR) || isDomException(e, DOMException.TYPE_MISMATCH_ERR)) return null;
    throw e;
  }
}

async function remove(pack: string, name: string): Promise<void> {
  const dir = await packDir(pack, false);
  await dir?.removeEntry(name).catch(() => undefined);
}

/** Write all of `c` at offset `at` through a sync access handle (it may write less than asked);
 * returns the offset after it. A write of nothing means the disk is full. */
function writeAllAt(s: SyncHandle, c: Uint8Array, at: number): number {
  for (let off = 0; off < c.byteLength;) {
    const n = s.write(c.subarray(off), { at });
    if (n <= 0) throw new DOMException('write failed (disk full?)', 'QuotaExceededError');
    at += n;
    off += n;
  }
  return at;
}

async function openWriter(h: FileHandle, fresh: boolean): Promise<PartialWriter> {
  // In a dedicated worker, a sync access handle writes in place (createWritable would copy the
  // whole partial into a swap file on every resume).
  if (typeof h.createSyncAccessHandle === 'function' && typeof (globalThis as { WorkerGlobalScope?: unknown }).WorkerGlobalScope !== 'undefined') {
    try {
      const s = await h.createSyncAccessHandle();
      if (fresh) s.truncate(0);
      let at = s.getSize();
      return {
        async write(c) {
          at = writeAllAt(s, c, at);
        },
        async close() {
          s.flush();
          s.close();
        },
      };
    } catch (e) {
      if (isDomException(e, DOMException.QUOTA_EXCEEDED_ERR)) throw e;
      // e.g. not in a dedicated worker: fall through to a writable stream
    }
  }
  const w = await h.createWritable({ keepExistingData: !fresh });
  if (!fresh) await w.seek((await h.getFile()).size);
  return {
    async write(c) {
      await w.write(c as unknown as BufferSource);
    },
    async close() {
      await w.close();
    },
  };
}

export function opfsStore(): PackStore {
  const wrap = async <T>(what: string, f: () => Promise<T>): Promise<T> => {
    try {
      return await f();
    } catch (e) {
      throw storageError(e, what);
    }
  };
  return {
    kind: 'opfs',
    async file(pack, sha) {
      const h = await fileHandle(pack, sha, false);
      return h ? h.getFile() : null;
    },
    async partial(pack, sha) {
      const h = await fileHandle(pack, `${sha}.part`, false);
      return h ? h.getFile() : null;
    },
    writer: (pack, sha, fresh) => wrap('store the download', async () => {
      const h = (await fileHandle(pack, `${sha}.part`, true))!;
      const w = await openWriter(h, fresh);
      return {
        write: (c) => wrap('store the download', () => w.write(c)),
        close: () => wrap('store the download', () => w.close()),
      };
    }),
    commit: (pack, sha) => wrap('store the download', async () => {
      const h = (await fileHandle(pack, `${sha}.part`, false))!;
      if (typeof h.move === 'function') {
        await remove(pack, sha);
        await h.move(sha);
        return;
      }
      const out = (await fileHandle(pack, sha, true))!;
      const w = await out.createWritable();
      await (await h.getFile()).stream().pipeTo(w);
      await remove(pack, `${sha}.part`);
    }),
    discard: (pack, sha) => remove(pack, `${sha}.part`),
    async readJson(pack, name) {
      const h = await fileHandle(pack, `${name}.json`, false);
      if (!h) return null;
      try {
        return JSON.parse(await (await h.getFile()).text());
      } catch {
        return null; // a torn write: treat as absent
      }
    },
    writeJson: (pack, name, value) => wrap('save the pack index', async () => {
      const h = (await fileHandle(pack, `${name}.json`, true))!;
      const w = await h.createWritable();
      await w.write(JSON.stringify(value));
      await w.close();
    }),
    async files(pack) {
      const dir = await packDir(pack, false);
      if (!dir) return [];
      const out: { sha256: string; bytes: number }[] = [];
      for await (const [name, h] of (dir as unknown as { entries(): AsyncIterable<[string, FileSystemHandle]> }).entries()) {
        if (h.kind === 'file' && /^[0-9a-f]{64}$/.test(name)) out.push({ sha256: name, bytes: (await (h as FileSystemFileHandle).getFile()).size });
      }
      return out;
    },
    async prune(pack, keep) {
      for (const f of await this.files(pack)) if (!keep.has(f.sha256)) await remove(pack, f.sha256);
    },
    async packs() {
      const out: string[] = [];
      for await (const [name, h] of ((await root()) as unknown as { entries(): AsyncIterable<[string, FileSystemHandle]> }).entries()) if (h.kind === 'directory') out.push(name);
      return out;
    },
    async deletePack(pack) {
      await (await root()).removeEntry(pack, { recursive: true }).catch((e: unknown) => {
        if (!isDomException(e, DOMException.NOT_FOUND_ERR)) throw e;
      });
    },
  };
}

/**
 * Scratch files of a conversion inside the pack's own folder (storePackSink): written through sync
 * access handles (dedicated workers only: the converter writes synchronously), then renamed to
 * their sha256 — the pack's bytes are written once, straight into OPFS.
 */
export function opfsScratch(pack: string): Scratch {
  return {
    async create(name) {
      const h = (await fileHandle(pack, name, true))!;
      if (typeof h.createSyncAccessHandle !== 'function') throw new Error('OPFS sync access handles are needed to convert in this browser (a dedicated worker in a recent browser)');
      let s: SyncHandle;
      try {
        s = await h.createSyncAccessHandle();
      } catch (e) {
        throw storageError(e, 'write the converted model');
      }
      s.truncate(0);
      let at = 0;
      return {
        write(c) {
          try {
            at = writeAllAt(s, c, at);
          } catch (e) {
            throw storageError(e, 'write the converted model');
          }
        },
        close() {
          s.flush();
          s.close();
        },
      };
    },
    async publish(name, sha) {
      const h = (await fileHandle(pack, name, false))!;
      if (typeof h.move === 'function') {
        await remove(pack, sha);
        await h.move(sha);
        return;
      }
      const out = (await fileHandle(pack, sha, true))!;
      await (await h.getFile()).stream().pipeTo(await out.createWritable());
      await remove(pack, name);
    },
    remove: (name) => remove(pack, name),
  };
}
