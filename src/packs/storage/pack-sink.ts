// The converter's PackSink (src/convert/io/bytes.ts) into a PackStore: a converted pack goes
// straight into browser storage as a stored pack (content-addressed files + manifest/info JSON),
// the same layout a downloaded pack has, so the engine opens it as { kind: 'stored', key }.
// The converter writes synchronously (graph builders pull one tensor at a time), so each file is
// written into a scratch file first (an OPFS sync access handle in the worker; memory in tests) and
// moved under its sha256 only on commit. manifest.json becomes the stored manifest, info.json is
// written last: until then nothing is listed as a complete pack, and abort removes every file.
import type { FileSink, PackSink } from '../../convert/io/bytes.ts';
import { CancelledError } from '../../protocol/errors.ts';
import { Sha256 } from '../download/sha256.ts';
import { parseManifest, type PackManifest } from '../manifest.ts';
import type { PackStore, StoredPackInfo } from './pack-store.ts';

/** A file written synchronously. */
export interface ScratchFile {
  write(chunk: Uint8Array): void;
  close(): void;
}

/** Where the sink's files wait before they are published into the store. */
export interface Scratch {
  create(name: string): Promise<ScratchFile>;
  /** Make the finished scratch file `name` the verified file `sha256` of the pack. */
  publish(name: string, sha256: string): Promise<void>;
  remove(name: string): Promise<void>;
}

/** Scratch files in memory, published through the store's writer (Node tests, small packs). */
export function memoryScratch(store: PackStore, pack: string): Scratch {
  const files = new Map<string, Uint8Array[]>();
  return {
    async create(name) {
      const parts: Uint8Array[] = [];
      files.set(name, parts);
      return { write: (c) => void parts.push(c.slice()), close: () => {} };
    },
    async publish(name, sha) {
      const w = await store.writer(pack, sha, true);
      for (const c of files.get(name) ?? []) await w.write(c);
      await w.close();
      await store.commit(pack, sha);
      files.delete(name);
    },
    async remove(name) {
      files.delete(name);
    },
  };
}

export interface StorePackSinkOptions {
  /** info.json fields besides key/name/bytes (origin, the job that made it…). */
  info: Omit<StoredPackInfo, 'key' | 'name' | 'bytes' | 'totalBytes' | 'complete' | 'savedAt'> & Record<string, unknown>;
  signal?: AbortSignal;
  /** Called with each file's path as it is created (progress by network). */
  onFile?: (path: string) => void;
  /** Networks an interrupted conversion of this pack already wrote (their files are in the store). */
  resume?: Readonly<Record<string, ConvertedStep>>;
  /** A network's files are published into the store (not yet as a pack): record it to resume from. */
  onCheckpoint?: (step: string, done: ConvertedStep) => Promise<void>;
}

/** A network written into the store before the pack was complete: its manifest record and files. */
export interface ConvertedStep { record: unknown; files: { sha256: string; bytes: number }[] }

export interface StorePackSink extends PackSink {
  /** The stored manifest, once committed. */
  readonly manifest: PackManifest | null;
}

/** A PackSink that publishes the pack into `store` under `key` on commit. */
export function storePackSink(store: PackStore, key: string, scratch: Scratch, o: StorePackSinkOptions): StorePackSink {
  const written = new Map<string, { name: string; sha256: string; bytes: number }>();
  const open = new Set<string>();
  const unclosed = new Map<string, ScratchFile>();
  let manifestBytes: Uint8Array[] | null = null;
  let manifest: PackManifest | null = null;
  /** Files published at checkpoints (sha256 → bytes), with those of the networks resumed. */
  const kept = new Map<string, number>();
  for (const st of Object.values(o.resume ?? {})) for (const f of st.files) kept.set(f.sha256, f.bytes);
  let keptBytes = Object.values(o.resume ?? {}).reduce((s, st) => s + st.files.reduce((a, f) => a + f.bytes, 0), 0);
  /** Move the written files into the store under their sha256 (identical files are stored once). */
  const publish = async (): Promise<{ sha256: string; bytes: number }[]> => {
    const out: { sha256: string; bytes: number }[] = [];
    for (const f of written.values()) {
      if (kept.has(f.sha256) || (await store.file(key, f.sha256))) await scratch.remove(f.name);
      else await scratch.publish(f.name, f.sha256);
      kept.set(f.sha256, f.bytes);
      open.delete(f.name);
      out.push({ sha256: f.sha256, bytes: f.bytes });
      keptBytes += f.bytes;
    }
    written.clear();
    return out;
  };
  const cancelled = () => {
    if (o.signal?.aborted) throw new CancelledError('Conversion cancelled; nothing was kept as a pack.');
  };
  const sink: StorePackSink = {
    get manifest() {
      return manifest;
    },
    async create(path): Promise<FileSink> {
      cancelled();
      o.onFile?.(path);
      const hash = new Sha256();
      let bytes = 0;
      if (path === 'manifest.json') {
        const parts: Uint8Array[] = (manifestBytes = []);
        return { write: (c) => { parts.push(c.slice()); hash.update(c); bytes += c.byteLength; }, close: () => ({ bytes, sha256: hash.hex() }) };
      }
      // Named by the pack path: a resumed conversion writes the interrupted network's files again
      // under the same names, so no stale scratch file of the interrupted run is left behind.
      const name = `convert-${path.replace(/[^\w.-]/g, '_')}.tmp`;
      const f = await scratch.create(name);
      open.add(name);
      unclosed.set(name, f);
      return {
        write(c) {
          f.write(c);
          hash.update(c);
          bytes += c.byteLength;
        },
        close() {
          f.close();
          unclosed.delete(name);
          const sha256 = hash.hex();
          written.set(path, { name, sha256, bytes });
          return { bytes, sha256 };
        },
      };
    },
    async commit() {
      cancelled();
      if (!manifestBytes) throw new Error('the converter committed a pack without manifest.json');
      const text = new TextDecoder().decode(await new Blob(manifestBytes as BlobPart[]).arrayBuffer());
      const raw: unknown = JSON.parse(text);
      const m = parseManifest(raw);
      await publish();
      const totalBytes = keptBytes;
      await store.writeJson(key, 'manifest', raw); // as written (parseManifest may normalise)
      const info: StoredPackInfo & Record<string, unknown> = { ...o.info, key, name: m.name, bytes: 0, totalBytes, complete: true, savedAt: Date.now() };
      await store.writeJson(key, 'info', info); // last: with it the pack is listed as complete
      manifest = m;
    },
    resumed: (step) => o.resume?.[step]?.record,
    async checkpoint(step, record) {
      cancelled();
      if (!o.onCheckpoint) return;
      const files = await publish();
      await o.onCheckpoint(step, { record, files });
    },
    async abort() {
      for (const f of unclosed.values()) {
        try {
          f.close();
        } catch {
          // already broken: removing it below is what matters
        }
      }
      unclosed.clear();
      for (const name of open) await scratch.remove(name).catch(() => undefined);
      open.clear();
      written.clear();
      manifestBytes = null;
    },
  };
  return sink;
}
