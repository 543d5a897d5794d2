// A pack from a URL, kept in a PackStore: the manifest is fetched (or, offline, taken from the
// store), missing files are downloaded and verified, then every read comes from local storage.
// Weight shards are handed to ORT as disk-backed Blobs, so JS never holds a second copy.
import { ManifestError, packFiles, parseManifest, type PackFile, type PackManifest } from '../manifest.ts';
import { downloadFiles, type DownloadOptions } from '../download/download.ts';
import { OfflineError, PackDownloadError, PackInvalidError, PackNotFoundError, type PackSource } from '../pack-source.ts';
import { fileEntry } from './verify.ts';
import { StorageFullError, packKey, type PackStore, type StoredPackInfo } from '../storage/pack-store.ts';
import { neededByDependents, storedFile, unretire } from '../storage/shared-files.ts';

export interface UrlPackOptions extends DownloadOptions {
  store: PackStore;
  /** Free space check before downloading (navigator.storage.estimate in browsers). */
  estimate?: () => Promise<{ usage?: number; quota?: number }>;
  /** Called once the manifest is known, before any file is downloaded. */
  onManifest?: (m: PackManifest, missingBytes: number) => void;
}

export function normalizeBaseUrl(baseUrl: string): string {
  let u: URL;
  try {
    u = new URL(baseUrl);
  } catch {
    throw new PackNotFoundError(`"${baseUrl}" is not a web address`);
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new PackNotFoundError(`Packs are fetched over HTTP(S), not ${u.protocol}`);
  u.hash = '';
  u.search = '';
  return u.href.endsWith('/') ? u.href : `${u.href}/`;
}

function parse(json: unknown, where: string): PackManifest {
  try {
    return parseManifest(json);
  } catch (e) {
    if (e instanceof ManifestError) throw new PackInvalidError(`${where}: ${e.message}`, 'manifest.json');
    throw e;
  }
}

async function fetchManifest(base: string, o: UrlPackOptions): Promise<PackManifest | null> {
  let res: Response;
  try {
    res = await (o.fetch ?? fetch)(`${base}manifest.json`, { signal: o.signal, cache: 'no-store' });
  } catch (e) {
    if (o.signal?.aborted) throw e;
    return null; // offline or unreachable: the stored copy may do
  }
  if (res.status === 404 || res.status === 410) throw new PackNotFoundError(`${base}manifest.json: HTTP ${res.status}`, base);
  if (!res.ok) throw new PackDownloadError(`${base}manifest.json: HTTP ${res.status}`, base);
  // A web page where the manifest should be (a site's "page not found", an app's fallback page): no pack here.
  if (/text\/html/i.test(res.headers.get('content-type') ?? '')) throw new PackNotFoundError(`${base}manifest.json: the address answers with a web page, not a model manifest`, base);
  let json: unknown;
  try {
    json = await res.json();
  } catch {
    throw new PackInvalidError(`${base}manifest.json is not JSON`, 'manifest.json');
  }
  return parse(json, `${base}manifest.json`);
}

/** A PackSource over files already verified into the store. `refetch` (a pack that has a URL) gets a
 * file again that storage lost while the pack was open. */
export function storedPackSource(manifest: PackManifest, store: PackStore, key: string, refetch?: (f: PackFile) => Promise<void>): PackSource {
  const blob = async (path: string) => {
    const e = fileEntry(manifest, path);
    let b = await storedFile(store, key, e.sha256); // a derived pack's unchanged files live in its base
    if (!b && refetch) {
      // Seen in Chromium's in-memory (incognito) OPFS: a stored pack's folder emptied during a long
      // session (cause not found). A pack with a URL downloads the lost file again, verified.
      console.warn(`[lavie] ${path} was missing from local storage; downloading it again`);
      await refetch(e);
      b = await storedFile(store, key, e.sha256);
    }
    if (!b) throw new PackInvalidError(`${path} is missing from local storage (deleted while in use?)`, path);
    return b;
  };
  return {
    manifest,
    blob,
    async read(path) {
      return new Uint8Array(await (await blob(path)).arrayBuffer());
    },
  };
}

/** A pack that exists only in the store (personalized from a stored pack): every file must be there. */
export async function openStoredPack(store: PackStore, key: string): Promise<PackSource & { key: string }> {
  const json = await store.readJson(key, 'manifest');
  if (!json) throw new PackInvalidError('This stored pack is gone (deleted?). Choose another model.');
  const manifest = parse(json, 'stored manifest');
  for (const f of packFiles(manifest)) {
    if (!(await storedFile(store, key, f.sha256))) throw new PackInvalidError(`${f.path} of this stored pack is missing from local storage (the browser may have cleared it); personalize the pack again.`, f.path);
  }
  return { ...storedPackSource(manifest, store, key), key };
}

/** Open a URL pack through the store, downloading what is missing. */
export async function openUrlPack(baseUrl: string, o: UrlPackOptions): Promise<PackSource & { key: string }> {
  const base = normalizeBaseUrl(baseUrl);
  const key = packKey(base);
  const { store } = o;
  const fetched = await fetchManifest(base, o);
  const stored = fetched ? null : await store.readJson(key, 'manifest');
  if (!fetched && !stored) throw new OfflineError(`Could not reach ${base}manifest.json, and this pack has not been downloaded before.`, base);
  const manifest = fetched ?? parse(stored, 'stored manifest');
  const files = packFiles(manifest);
  const have = new Set((await store.files(key)).map((f) => f.sha256));
  const missing = files.filter((f) => !have.has(f.sha256));
  const missingBytes = missing.reduce((s, f) => s + f.bytes, 0);
  if (missing.length && !fetched) throw new OfflineError(`Offline: ${missing.length} file(s) of this pack (${missingBytes} bytes) were never downloaded.`, base);
  o.onManifest?.(manifest, missingBytes);
  if (missingBytes > 0 && o.estimate) {
    const { usage = 0, quota } = await o.estimate().catch(() => ({ usage: 0, quota: undefined }));
    if (quota !== undefined && quota - usage < missingBytes) {
      throw new StorageFullError(`This pack needs ${fmt(missingBytes)} more, but only ${fmt(Math.max(0, quota - usage))} of storage is available to this site. Free space (Storage panel, or other sites' data) and try again.`);
    }
  }
  const info = (complete: boolean): StoredPackInfo => ({ key, origin: base, name: manifest.name, bytes: 0, totalBytes: files.reduce((s, f) => s + f.bytes, 0), complete, savedAt: Date.now() });
  if (fetched) {
    await store.writeJson(key, 'manifest', manifest);
    if (missing.length) await store.writeJson(key, 'info', info(false));
  }
  await downloadFiles(base, files, store, key, o);
  if (missing.length) {
    await store.writeJson(key, 'info', info(true));
    // An updated pack at the same URL: files only the old version used are dead weight (unless a
    // pack personalized from it still uses them).
    await store.prune(key, new Set([...files.map((f) => f.sha256), ...(await neededByDependents(store, key))]));
  }
  await unretire(store, key);
  // Not the load's signal or progress: a file lost later is fetched during a generation.
  const refetch = (f: PackFile) => downloadFiles(base, [f], store, key, { fetch: o.fetch });
  return { ...storedPackSource(manifest, store, key, refetch), key };
}

function fmt(n: number): string {
  return n >= 1 << 30 ? `${(n / (1 << 30)).toFixed(1)} GiB` : `${(n / (1 << 20)).toFixed(1)} MiB`;
}
