// Packs derived from another stored pack (personalized packs) share its files instead of copying
// them. Files are content-addressed (named by sha256), so a derived pack stores only the files it
// changed and names its base in info.json; a file is looked up in the pack, then along its bases.
// Deleting is a mark-and-sweep over the manifests in storage: a pack other packs still build on is
// only marked `retired` (hidden, keeping just the files those packs' manifests name); a retired pack
// nobody needs any more is deleted. So deleting a derived pack frees exactly its own files.
import { packFiles, parseManifest } from '../manifest.ts';
import type { PackStore } from './pack-store.ts';

/** The fields of info.json that link packs (besides StoredPackInfo's). */
export interface PackLink { base?: string; retired?: boolean }

const MAX_CHAIN = 16;

export async function linkOf(store: PackStore, key: string): Promise<PackLink> {
  const info = (await store.readJson(key, 'info')) as PackLink | null;
  return { ...(typeof info?.base === 'string' ? { base: info.base } : {}), ...(info?.retired === true ? { retired: true } : {}) };
}

/** The pack and its bases, nearest first. */
export async function chainOf(store: PackStore, key: string): Promise<string[]> {
  const out = [key];
  for (let k = (await linkOf(store, key)).base; k && out.length < MAX_CHAIN && !out.includes(k); k = (await linkOf(store, k)).base) out.push(k);
  return out;
}

/** A verified file of `key` or of one of its bases. */
export async function storedFile(store: PackStore, key: string, sha256: string): Promise<Blob | null> {
  for (const k of await chainOf(store, key)) {
    const b = await store.file(k, sha256);
    if (b) return b;
  }
  return null;
}

/** sha256 → bytes of every file reachable from `key` (its own and its bases'). */
export async function reachableFiles(store: PackStore, key: string): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const k of (await chainOf(store, key)).reverse()) for (const f of await store.files(k)) out.set(f.sha256, f.bytes);
  return out;
}

async function manifestShas(store: PackStore, key: string): Promise<Set<string> | null> {
  try {
    return new Set(packFiles(parseManifest(await store.readJson(key, 'manifest'))).map((f) => f.sha256));
  } catch {
    return null;
  }
}

/** Live (not retired) packs other than `key` whose chain passes through `key`. */
export async function dependentsOf(store: PackStore, key: string): Promise<string[]> {
  const out: string[] = [];
  for (const k of await store.packs()) {
    if (k === key || (await linkOf(store, k)).retired) continue;
    if ((await chainOf(store, k)).includes(key)) out.push(k);
  }
  return out;
}

/** Files of `key` that packs building on it still name: keep them through an update or a delete. */
export async function neededByDependents(store: PackStore, key: string): Promise<Set<string>> {
  const keep = new Set<string>();
  for (const d of await dependentsOf(store, key)) for (const s of (await manifestShas(store, d)) ?? []) keep.add(s);
  return keep;
}

/**
 * Delete a stored pack as the user sees it. Its files go, except those packs built on it still
 * use (then it stays, hidden, with only those); retired packs nobody needs any more are swept.
 */
export async function deleteStoredPack(store: PackStore, key: string): Promise<void> {
  if ((await dependentsOf(store, key)).length) {
    const info = ((await store.readJson(key, 'info')) ?? {}) as Record<string, unknown>;
    await store.writeJson(key, 'info', { ...info, key, retired: true });
  } else {
    await store.deletePack(key);
  }
  await sweep(store);
}

/** Prune retired packs to what live packs still need; delete those nobody needs. */
export async function sweep(store: PackStore): Promise<void> {
  for (let pass = 0; pass < MAX_CHAIN; pass++) {
    let removed = false;
    for (const k of await store.packs()) {
      if (!(await linkOf(store, k)).retired) continue;
      if (!(await dependentsOf(store, k)).length) {
        await store.deletePack(k);
        removed = true;
      } else {
        await store.prune(k, await neededByDependents(store, k));
      }
    }
    if (!removed) return;
  }
}

/** A retired pack opened again (e.g. its URL is loaded): visible again. */
export async function unretire(store: PackStore, key: string): Promise<void> {
  const info = (await store.readJson(key, 'info')) as Record<string, unknown> | null;
  if (info?.retired) {
    const { retired: _r, ...rest } = info;
    await store.writeJson(key, 'info', rest);
  }
}
