// The browser's side of pack delivery, chosen here and nowhere else: which storage (OPFS, else
// Cache Storage, else memory), which hosts a URL pack may come from (VITE_PACK_HOSTS), where the
// built-in pack is served, and how a local folder is read. The engine only gets the PackSource.
import type { PackRef, ProgressInfo } from '../src/protocol.ts';
import { packHosts, packUrlAllowed } from '../src/packs/download/hosts.ts';
import { PackHostRefusedError, type PackSource } from '../src/packs/pack-source.ts';
import { builtinPackUrl } from '../src/packs/sources/builtin.ts';
import { filesFromDirectory, openLocalPack } from '../src/packs/sources/local-folder.ts';
import { openStoredPack, openUrlPack } from '../src/packs/sources/url.ts';
import { defaultStore, storageEstimate } from '../src/packs/storage/browser-default.ts';

export interface LoadContext {
  signal?: AbortSignal;
  onProgress?: (p: ProgressInfo) => void;
  /** GPU bytes the engine may hold (learned from failures; engine-host.ts). */
  budgetBytes?: number;
}

export async function openPack(pack: PackRef, ctx: LoadContext = {}): Promise<PackSource> {
  const t0 = performance.now();
  const elapsedMs = () => performance.now() - t0;
  if (pack.kind === 'local') {
    const files = pack.dir ? await filesFromDirectory(pack.dir) : new Map(Object.entries(pack.files ?? {}));
    return openLocalPack(files, (file, done, total) => ctx.onProgress?.({ phase: 'verify', step: done, total, elapsedMs: elapsedMs(), download: { file, fileLoaded: done, fileBytes: total, filesDone: 0, filesTotal: 0 } }));
  }
  if (pack.kind === 'stored') return openStoredPack(defaultStore(), pack.key);
  const url = pack.kind === 'builtin' ? builtinPackUrl(import.meta.env.BASE_URL, self.location.origin, import.meta.env.VITE_BUILTIN_PACK) : pack.baseUrl;
  const hosts = packHosts(import.meta.env.VITE_PACK_HOSTS);
  if (!packUrlAllowed(url, self.location.origin, hosts)) {
    // (The list is set when the site is built: VITE_PACK_HOSTS, see README.)
    throw new PackHostRefusedError(`This site loads model packs only from its own origin and ${hosts.join(', ')}; ${url} is elsewhere.`, url);
  }
  return openUrlPack(url, {
    store: defaultStore(),
    estimate: storageEstimate(),
    signal: ctx.signal,
    onProgress: (d) => ctx.onProgress?.({
      phase: 'download', step: d.loaded, total: d.total, elapsedMs: elapsedMs(),
      ...(d.etaMs !== undefined ? { etaMs: d.etaMs } : {}),
      download: { file: d.file, fileLoaded: d.fileLoaded, fileBytes: d.fileBytes, filesDone: d.filesDone, filesTotal: d.filesTotal, ...(d.bytesPerSec ? { bytesPerSec: d.bytesPerSec } : {}) },
    }),
  });
}
