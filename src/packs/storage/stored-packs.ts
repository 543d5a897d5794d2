// What the store holds: each pack with its bytes on disk and whether every file of its manifest is there.
import { packFiles, parseManifest } from '../manifest.ts';
import type { PackStore, StoredPackInfo } from './pack-store.ts';

/** Stored packs with what they occupy, newest first. */
export async function listStoredPacks(store: PackStore): Promise<StoredPackInfo[]> {
  const out: StoredPackInfo[] = [];
  for (const key of await store.packs()) {
    const info = (await store.readJson(key, 'info')) as Partial<StoredPackInfo> | null;
    const files = await store.files(key);
    const bytes = files.reduce((s, f) => s + f.bytes, 0);
    let complete = false;
    let totalBytes = info?.totalBytes ?? bytes;
    try {
      const m = parseManifest(await store.readJson(key, 'manifest'));
      const have = new Set(files.map((f) => f.sha256));
      complete = packFiles(m).every((f) => have.has(f.sha256));
      totalBytes = packFiles(m).reduce((s, f) => s + f.bytes, 0);
    } catch {
      // no or unreadable manifest: incomplete, deletable
    }
    out.push({ key, origin: info?.origin ?? '', name: info?.name ?? key, bytes, totalBytes, complete, savedAt: info?.savedAt ?? 0 });
  }
  return out.sort((a, b) => b.savedAt - a.savedAt);
}
