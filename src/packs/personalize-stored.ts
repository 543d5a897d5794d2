// Personalize a pack already in storage: plan the rewrite of the weights the LoRAs change
// (convert/personalize/installed.ts — the converter's merge code), write only the files that change
// (a patched copy of each, content-addressed), and record a new pack whose manifest names the
// base's files for everything else. The base pack is never modified; on failure or cancel only the
// new pack's own files are removed.
import { planInstalledPersonalization, type FilePatches, type InstalledLora } from '../convert/personalize/installed.ts';
import { readSafetensors } from '../convert/io/safetensors.ts';
import { bufferSource } from '../convert/io/bytes.ts';
import { CancelledError } from '../protocol/errors.ts';
import { Sha256 } from './download/sha256.ts';
import { packFiles, parseManifest, type PackFile, type PackManifest } from './manifest.ts';
import { PackInvalidError } from './pack-source.ts';
import { packKey, type PackStore, type StoredPackInfo } from './storage/pack-store.ts';
import { reachableFiles, storedFile } from './storage/shared-files.ts';

export interface LoraUpload { name: string; bytes: Uint8Array; multiplier: number }

export interface PersonalizeProgress { phase: 'merge' | 'write'; done: number; total: number }

export interface PersonalizeStoredOptions {
  skipUnmatched?: boolean;
  signal?: AbortSignal;
  onProgress?: (p: PersonalizeProgress) => void;
}

export interface PersonalizedPack { key: string; manifest: PackManifest; lines: string[]; writtenBytes: number }

const CHUNK = 8 << 20;

/** `blob` with `patches` applied, chunk by chunk. */
async function* patched(blob: Blob, f: FilePatches): AsyncGenerator<Uint8Array> {
  for (let pos = 0; pos < blob.size; pos += CHUNK) {
    const end = Math.min(blob.size, pos + CHUNK);
    const chunk = new Uint8Array(await blob.slice(pos, end).arrayBuffer());
    for (const p of f.patches) {
      const s = Math.max(p.offset, pos);
      const e = Math.min(p.offset + p.bytes.byteLength, end);
      if (s < e) chunk.set(p.bytes.subarray(s - p.offset, e - p.offset), s - pos);
    }
    yield chunk;
  }
}

function hexOf(bytes: Uint8Array): string {
  return new Sha256().update(bytes).hex();
}

/** Personalize the stored pack `baseKey` with LoRAs; returns the new stored pack. */
export async function personalizeStoredPack(store: PackStore, baseKey: string, uploads: readonly LoraUpload[], o: PersonalizeStoredOptions = {}): Promise<PersonalizedPack> {
  let base: PackManifest;
  try {
    base = parseManifest(await store.readJson(baseKey, 'manifest'));
  } catch {
    throw new PackInvalidError('This stored pack has no readable manifest; download it again before personalizing it.');
  }
  const have = await reachableFiles(store, baseKey);
  const missing = packFiles(base).filter((f) => !have.has(f.sha256));
  if (missing.length) throw new PackInvalidError(`This stored pack is incomplete (${missing.length} file(s) missing, e.g. ${missing[0]!.path}); load it once to finish the download, then personalize it.`, missing[0]!.path);
  const byPath = new Map(packFiles(base).map((f) => [f.path, f]));
  const blob = async (path: string): Promise<Blob> => {
    const f = byPath.get(path);
    const b = f ? await storedFile(store, baseKey, f.sha256) : null;
    if (!b) throw new PackInvalidError(`${path} is missing from local storage`, path);
    return b;
  };
  const loras: InstalledLora[] = uploads.map((u) => ({ name: u.name, sd: readSafetensors(bufferSource(u.bytes), u.name), multiplier: u.multiplier }));
  const plan = await planInstalledPersonalization(base, {
    read: async (path) => new Uint8Array(await (await blob(path)).arrayBuffer()),
    slice: async (path, offset, length) => new Uint8Array(await (await blob(path)).slice(offset, offset + length).arrayBuffer()),
  }, loras, { skipUnmatched: o.skipUnmatched, signal: o.signal, onProgress: (done, total) => o.onProgress?.({ phase: 'merge', done, total }) });

  // The same base and LoRA files give the same pack (personalizing twice replaces it).
  const key = packKey(`personalized:${baseKey}:${uploads.map((u) => `${hexOf(u.bytes)}×${u.multiplier}`).join(',')}:${o.skipUnmatched ? 'skip' : ''}`);
  const replaced = new Map<string, PackFile>();
  let writtenBytes = 0;
  const total = plan.files.reduce((s, f) => s + byPath.get(f.path)!.bytes, 0);
  try {
    for (const f of plan.files) {
      const src = await blob(f.path);
      // Content addressing needs the hash first: one pass to hash, one to write.
      const h = new Sha256();
      for await (const c of patched(src, f)) {
        if (o.signal?.aborted) throw new CancelledError('Personalization cancelled; the installed pack is unchanged.');
        h.update(c);
      }
      const sha256 = h.hex();
      replaced.set(f.path, { path: f.path, bytes: src.size, sha256 });
      if (await storedFile(store, key, sha256)) continue;
      const w = await store.writer(key, sha256, true);
      try {
        for await (const c of patched(src, f)) {
          if (o.signal?.aborted) throw new CancelledError('Personalization cancelled; the installed pack is unchanged.');
          await w.write(c);
          writtenBytes += c.byteLength;
          o.onProgress?.({ phase: 'write', done: writtenBytes, total });
        }
      } finally {
        await w.close();
      }
      await store.commit(key, sha256);
    }
    const manifest = parseManifest(withFiles({ ...base, name: nameOf(base, plan.record.loras.slice(-uploads.length)), personalization: plan.record }, replaced));
    const info: StoredPackInfo & { base: string } = {
      key, origin: `personalized from ${base.name}`, name: manifest.name, bytes: 0, totalBytes: packFiles(manifest).reduce((s, f) => s + f.bytes, 0), complete: true, savedAt: Date.now(), base: baseKey,
    };
    await store.writeJson(key, 'manifest', manifest);
    await store.writeJson(key, 'info', info); // last: with it the pack is listed
    return { key, manifest, lines: plan.lines, writtenBytes };
  } catch (e) {
    await store.deletePack(key).catch(() => undefined);
    throw e;
  }
}

function nameOf(base: PackManifest, added: { name: string; multiplier: number }[]): string {
  return `${base.name} + ${added.map((l) => `${l.name.replace(/\.safetensors$/i, '')} ×${l.multiplier}`).join(' + ')}`.slice(0, 200);
}

/** A copy of the manifest whose file records at the given paths are replaced. */
function withFiles(m: PackManifest, replaced: Map<string, PackFile>): unknown {
  const walk = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      if (typeof o.path === 'string' && typeof o.sha256 === 'string' && replaced.has(o.path)) return { ...o, ...replaced.get(o.path) };
      return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, walk(x)]));
    }
    return v;
  };
  return walk(m);
}

/** Messages of the personalize worker (workers/personalize.worker.ts). */
export type PersonalizeRequest =
  | { type: 'start'; id: string; baseKey: string; loras: { name: string; file: Blob; multiplier: number }[]; skipUnmatched?: boolean }
  | { type: 'cancel'; id: string };

export type PersonalizeEvent =
  | { type: 'progress'; id: string; progress: PersonalizeProgress }
  | { type: 'done'; id: string; key: string; name: string; lines: string[]; writtenBytes: number }
  | { type: 'error'; id: string; error: { code: string; message: string; recoverable: boolean } };
