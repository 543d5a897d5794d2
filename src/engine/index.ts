// Engine entry point for the worker: the browser runtime (onnxruntime-web/webgpu on our own
// GPUDevice) plus a pack source for the requested pack — URL packs (and the built-in demo pack)
// downloaded once into the browser's storage, local folders read in place.
import type { PackRef, ProgressInfo } from '../protocol.ts';
import { builtinPackUrl } from '../packs/sources/builtin.ts';
import { openCachedUrlPack } from '../packs/sources/url.ts';
import { defaultStore, storageEstimate } from '../packs/storage/browser-default.ts';
import { filesFromDirectory, openLocalPack } from '../packs/sources/local-folder.ts';
import { packHosts, packUrlAllowed } from '../packs/download/hosts.ts';
import { PackDownloadError, type PackSource } from '../packs/pack-source.ts';
import { LaVieEngine } from './engine.ts';
import { createWebRuntime } from './runtime/web-runtime.ts';
import type { GenerationEngine } from './types.ts';


export interface LoadContext {
  signal?: AbortSignal;
  onProgress?: (p: ProgressInfo) => void;
}

export async function openPack(pack: PackRef, ctx: LoadContext = {}): Promise<PackSource> {
  const t0 = performance.now();
  const elapsedMs = () => performance.now() - t0;
  if (pack.kind === 'local') {
    const files = pack.dir ? await filesFromDirectory(pack.dir) : new Map(Object.entries(pack.files ?? {}));
    return openLocalPack(files, (file, done, total) => ctx.onProgress?.({ phase: 'verify', step: done, total, elapsedMs: elapsedMs(), download: { file, fileLoaded: done, fileBytes: total, filesDone: 0, filesTotal: 0 } }));
  }
  const url = pack.kind === 'builtin' ? builtinPackUrl() : pack.baseUrl;
  const hosts = packHosts(import.meta.env?.VITE_PACK_HOSTS);
  if (!packUrlAllowed(url, self.location.origin, hosts)) {
    throw new PackDownloadError(`This site loads model packs only from its own origin and ${hosts.join(', ')}; ${url} is elsewhere. (Whoever deploys it can allow more hosts with VITE_PACK_HOSTS.)`, url);
  }
  return openCachedUrlPack(url, {
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

export async function createEngine(pack: PackRef, ctx: LoadContext = {}): Promise<GenerationEngine> {
  const source = await openPack(pack, ctx);
  if (ctx.signal?.aborted) throw new DOMException('Loading cancelled.', 'AbortError');
  const rt = await createWebRuntime();
  const t0 = performance.now();
  return LaVieEngine.load(rt, source, {
    onProgress: (p) => ctx.onProgress?.({ phase: 'load', step: p.loaded, total: p.total, elapsedMs: performance.now() - t0 }),
  });
}
