// Personalize a pack already in storage: plan the rewrite of the weights the LoRAs or a fine-tuned
// SD-1.x checkpoint change
// (convert/personalize/installed.ts — the converter's merge code), write only the files that change
// (a patched copy of each, content-addressed), and record a new pack whose manifest names the
// base's files for everything else. The base pack is never modified; on failure or cancel only the
// new pack's own files are removed.
import { planInstalledPersonalization, type FilePatches } from '../convert/personalize/installed.ts';
import type { PersonalizeSpec } from '../convert/personalize/apply.ts';
import { readSafetensors } from '../convert/io/safetensors.ts';
import { openCheckpoint } from '../convert/io/checkpoint.ts';
import { bufferSource, type ByteSource } from '../convert/io/bytes.ts';
import { CancelledError } from '../protocol/errors.ts';
import { Sha256 } from './download/sha256.ts';
import { packFiles, parseManifest, type PackFile, type PackManifest, type PackPersonalization, type PersonalizeMode } from './manifest.ts';
import { PackInvalidError } from './pack-source.ts';
import { packKey, type PackStore, type StoredPackInfo } from './storage/pack-store.ts';
import { reachableFiles, storedFile } from './storage/shared-files.ts';

export interface LoraUpload { name: string; bytes: Uint8Array; multiplier: number }

/**
 * A fine-tuned SD-1.x checkpoint (.safetensors or .ckpt, LDM layout). Read in place: tensors are
 * read from `source` one at a time (a Blob through FileReaderSync in the worker), never whole.
 * add-difference also needs `sdBase`, the SD-1.4 file it was fine-tuned from (LDM single file or
 * a diffusers UNet).
 */
export interface CheckpointUpload { name: string; source: ByteSource; mode: PersonalizeMode; sdBase?: { name: string; source: ByteSource } }

/** What to merge into a stored pack: a checkpoint (applied first, as the converter does) and/or LoRAs. */
export interface PersonalizeUploads { checkpoint?: CheckpointUpload; loras?: readonly LoraUpload[] }

/** read: hashing the checkpoint (bytes; it names the new pack); merge: weights merged; write: bytes stored. */
export interface PersonalizeProgress { phase: 'read' | 'merge' | 'write'; done: number; total: number }

export interface PersonalizeStoredOptions {
  skipUnmatched?: boolean;
  signal?: AbortSignal;
  onProgress?: (p: PersonalizeProgress) => void;
  /** Bytes read and written at a time (default 8 MiB; tests use small odd sizes so patches straddle chunks). */
  chunkBytes?: number;
}

export interface PersonalizedPack { key: string; manifest: PackManifest; lines: string[]; writtenBytes: number }

const CHUNK = 8 << 20;

/** `blob` with `patches` applied (each computed when its chunk is reached), chunk by chunk. */
async function* patched(blob: Blob, f: FilePatches, size: number): AsyncGenerator<Uint8Array> {
  let next = 0;
  for (let pos = 0; pos < blob.size; pos += size) {
    const end = Math.min(blob.size, pos + size);
    const chunk = new Uint8Array(await blob.slice(pos, end).arrayBuffer());
    // Patches are sorted by offset; one straddling two chunks is asked for twice (the plan keeps recent ones).
    while (next < f.patches.length && f.patches[next]!.offset + f.patches[next]!.length <= pos) next++;
    for (let i = next; i < f.patches.length && f.patches[i]!.offset < end; i++) {
      const p = f.patches[i]!;
      const s = Math.max(p.offset, pos);
      const e = Math.min(p.offset + p.length, end);
      if (s < e) chunk.set((await p.bytes()).subarray(s - p.offset, e - p.offset), s - pos);
    }
    yield chunk;
  }
}

/** Copy a stored partial under a new name, chunk by chunk (disk to disk). */
async function copyPartial(store: PackStore, key: string, from: string, to: string, size: number, onChunk: (bytes: number) => void, signal?: AbortSignal): Promise<void> {
  const part = await store.partial(key, from);
  if (!part) throw new Error(`${from}: the scratch file vanished`);
  const w = await store.writer(key, to, true);
  try {
    for (let pos = 0; pos < part.size; pos += size) {
      if (signal?.aborted) throw new CancelledError('Personalization cancelled; the installed pack is unchanged.');
      const c = new Uint8Array(await part.slice(pos, Math.min(part.size, pos + size)).arrayBuffer());
      await w.write(c);
      onChunk(c.byteLength);
    }
  } finally {
    await w.close();
  }
  await store.commit(key, to);
}

function hexOf(bytes: Uint8Array): string {
  return new Sha256().update(bytes).hex();
}

/**
 * sha256 of whole files read chunk by chunk (a checkpoint is never held whole). Yields to the event
 * loop between chunks so that a cancel gets in: hashing a 4 GB file takes a minute or two.
 */
async function hexOfSources(srcs: ByteSource[], signal: AbortSignal | undefined, onProgress: (done: number, total: number) => void): Promise<string[]> {
  const total = srcs.reduce((t, s) => t + s.size, 0);
  let done = 0;
  const out: string[] = [];
  for (const src of srcs) {
    const h = new Sha256();
    for (let pos = 0; pos < src.size; pos += CHUNK) {
      if (signal?.aborted) throw new CancelledError('Personalization cancelled; the installed pack is unchanged.');
      const b = src.read(pos, Math.min(CHUNK, src.size - pos));
      h.update(b);
      onProgress((done += b.byteLength), total);
      await new Promise((r) => setTimeout(r, 0));
    }
    out.push(h.hex());
  }
  return out;
}

/** Personalize the stored pack `baseKey` with a checkpoint and/or LoRAs; returns the new stored pack. */
export async function personalizeStoredPack(store: PackStore, baseKey: string, what: PersonalizeUploads, o: PersonalizeStoredOptions = {}): Promise<PersonalizedPack> {
  const uploads = what.loras ?? [];
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
  const c = what.checkpoint;
  const spec: PersonalizeSpec = {
    loras: uploads.map((u) => ({ name: u.name, sd: readSafetensors(bufferSource(u.bytes), u.name), multiplier: u.multiplier })),
    ...(c ? { checkpoint: { name: c.name, mode: c.mode, file: openCheckpoint(c.source, c.name) } } : {}),
    ...(c?.sdBase && c.mode === 'add-difference' ? { sdBase: { name: c.sdBase.name, sd: openCheckpoint(c.sdBase.source, c.sdBase.name) } } : {}),
  };
  const plan = await planInstalledPersonalization(base, {
    read: async (path) => new Uint8Array(await (await blob(path)).arrayBuffer()),
    slice: async (path, offset, length) => new Uint8Array(await (await blob(path)).slice(offset, offset + length).arrayBuffer()),
  }, spec, { skipUnmatched: o.skipUnmatched, signal: o.signal, onProgress: (done, total) => o.onProgress?.({ phase: 'merge', done, total }) });

  // The same base and files give the same pack (personalizing twice replaces it).
  const ckptHashes = c ? await hexOfSources([c.source, ...(c.sdBase && c.mode === 'add-difference' ? [c.sdBase.source] : [])], o.signal, (done, total) => o.onProgress?.({ phase: 'read', done, total })) : [];
  const key = packKey(`personalized:${baseKey}:${c ? `${c.mode}:${ckptHashes.join(':')}:` : ''}${uploads.map((u) => `${hexOf(u.bytes)}×${u.multiplier}`).join(',')}:${o.skipUnmatched ? 'skip' : ''}`);
  const replaced = new Map<string, PackFile>();
  let writtenBytes = 0;
  const total = plan.files.reduce((s, f) => s + byPath.get(f.path)!.bytes, 0);
  try {
    for (const [n, f] of plan.files.entries()) {
      const src = await blob(f.path);
      // One pass merges, hashes and writes a scratch copy (the merged weights are computed once and
      // never all held); content addressing needs the hash, so the copy is then stored under it.
      const scratch = `scratch-${n}`;
      const h = new Sha256();
      const w = await store.writer(key, scratch, true);
      try {
        for await (const c of patched(src, f, o.chunkBytes ?? CHUNK)) {
          if (o.signal?.aborted) throw new CancelledError('Personalization cancelled; the installed pack is unchanged.');
          h.update(c);
          await w.write(c);
        }
      } finally {
        await w.close();
      }
      const sha256 = h.hex();
      replaced.set(f.path, { path: f.path, bytes: src.size, sha256 });
      // Rewritten to the same bytes (a checkpoint's unchanged VAE / text encoder): the base's file serves.
      if (!(await storedFile(store, key, sha256)) && !(await storedFile(store, baseKey, sha256))) {
        await copyPartial(store, key, scratch, sha256, o.chunkBytes ?? CHUNK, (b) => o.onProgress?.({ phase: 'write', done: (writtenBytes += b), total }), o.signal);
      }
      await store.discard(key, scratch);
    }
    const manifest = parseManifest(withFiles({ ...base, name: nameOf(base, plan.record, uploads.length), personalization: plan.record }, replaced));
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

/** "<base> + <checkpoint> (<mode>) + <lora> ×m …": what this personalization added. */
function nameOf(base: PackManifest, record: PackPersonalization, loras: number): string {
  const stem = (n: string) => n.replace(/\.(safetensors|ckpt)$/i, '');
  const added = [
    ...(record.checkpoint && !base.personalization?.checkpoint ? [`${stem(record.checkpoint.name)} (${record.checkpoint.mode})`] : []),
    ...(loras ? record.loras.slice(-loras) : []).map((l) => `${stem(l.name)} ×${l.multiplier}`),
  ];
  return `${base.name} + ${added.join(' + ')}`.slice(0, 200);
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

/** A checkpoint as the page picks it: the file, the mode, and for add-difference the SD-1.4 file. */
export interface CheckpointPick { file: File; mode: PersonalizeMode; sdBase?: File }

/** Messages of the personalize worker (workers/personalize.worker.ts). */
export type PersonalizeRequest =
  | { type: 'start'; id: string; baseKey: string; loras: { name: string; file: Blob; multiplier: number }[]; checkpoint?: CheckpointPick; skipUnmatched?: boolean }
  | { type: 'cancel'; id: string };

export type PersonalizeEvent =
  | { type: 'progress'; id: string; progress: PersonalizeProgress }
  | { type: 'done'; id: string; key: string; name: string; lines: string[]; writtenBytes: number }
  | { type: 'error'; id: string; error: { code: string; message: string; recoverable: boolean } };
