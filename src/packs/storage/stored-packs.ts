// What the store holds: each pack with its bytes on disk and whether every file of its manifest is there.
import { packFiles, parseManifest } from '../manifest.ts';
import type { PackStore, StoredPackInfo } from './pack-store.ts';
import { linkOf, reachableFiles } from './shared-files.ts';

/** Stored packs with what they occupy (their own files), newest first; retired ones are hidden (shared-files.ts). */
export async function listStoredPacks(store: PackStore): Promise<StoredPackInfo[]> {
  const out: StoredPackInfo[] = [];
  for (const key of await store.packs()) {
    const link = await linkOf(store, key);
    if (link.retired) continue;
    const info = (await store.readJson(key, 'info')) as Partial<StoredPackInfo> | null;
    const files = await store.files(key);
    const bytes = files.reduce((s, f) => s + f.bytes, 0);
    let complete = false;
    let personalization: StoredPackInfo['personalization'];
    let totalBytes = info?.totalBytes ?? bytes;
    try {
      const m = parseManifest(await store.readJson(key, 'manifest'));
      const have = link.base ? await reachableFiles(store, key) : new Set(files.map((f) => f.sha256));
      personalization = m.personalization;
      complete = packFiles(m).every((f) => have.has(f.sha256));
      totalBytes = packFiles(m).reduce((s, f) => s + f.bytes, 0);
    } catch {
      // no or unreadable manifest: incomplete, deletable
    }
    out.push({ key, origin: info?.origin ?? '', name: info?.name ?? key, bytes, totalBytes, complete, savedAt: info?.savedAt ?? 0, ...(link.base ? { base: link.base } : {}), ...(personalization ? { personalization } : {}) });
  }
  return out.sort((a, b) => b.savedAt - a.savedAt);
}
