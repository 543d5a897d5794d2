// Where a pack's bytes come from. The engine sees only this interface; URLs, the built-in folder
// and (later) OPFS caches and local folders implement it. Every file is checked against the
// manifest's size and sha256 before anyone uses it.
import { ManifestError, packFiles, parseManifest, type PackFile, type PackManifest } from './manifest.ts';

export interface PackSource {
  readonly manifest: PackManifest;
  /** Bytes of a file listed in the manifest, verified. */
  read(path: string, onProgress?: (loaded: number, total: number) => void): Promise<Uint8Array>;
  /** The same bytes as a (possibly disk-backed) Blob, when the source has one: large weight shards
   * go to ORT this way instead of as a copy in JS memory. */
  blob?(path: string): Promise<Blob>;
}

export class PackDownloadError extends Error {
  readonly code = 'pack-download';
  constructor(message: string, readonly url?: string) {
    super(message);
    this.name = 'PackDownloadError';
  }
}

export class PackInvalidError extends Error {
  readonly code = 'pack-invalid';
  constructor(message: string, readonly path?: string) {
    super(message);
    this.name = 'PackInvalidError';
  }
}

export async function sha256Hex(data: Uint8Array): Promise<string> {
  const d = await crypto.subtle.digest('SHA-256', data as unknown as ArrayBuffer);
  return Array.from(new Uint8Array(d), (b) => b.toString(16).padStart(2, '0')).join('');
}

export function fileEntry(m: PackManifest, path: string): PackFile {
  const f = packFiles(m).find((x) => x.path === path);
  if (!f) throw new PackInvalidError(`"${path}" is not listed in the pack's manifest`, path);
  return f;
}

export async function verifyFile(entry: PackFile, data: Uint8Array): Promise<void> {
  if (data.byteLength !== entry.bytes) throw new PackInvalidError(`${entry.path}: ${data.byteLength} bytes, manifest says ${entry.bytes} (truncated or wrong file)`, entry.path);
  const h = await sha256Hex(data);
  if (h !== entry.sha256) throw new PackInvalidError(`${entry.path}: sha256 mismatch (corrupt download or wrong file)`, entry.path);
}

async function fetchBytes(url: string, onProgress?: (loaded: number, total: number) => void): Promise<Uint8Array> {
  let res: Response;
  try {
    res = await fetch(url);
  } catch (e) {
    throw new PackDownloadError(`Could not reach ${url}: ${(e as Error).message}`, url);
  }
  if (!res.ok) throw new PackDownloadError(`${url}: HTTP ${res.status}`, url);
  const total = Number(res.headers.get('content-length') ?? 0);
  if (!res.body) return new Uint8Array(await res.arrayBuffer());
  const chunks: Uint8Array[] = [];
  let loaded = 0;
  const reader = res.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    loaded += value.byteLength;
    onProgress?.(loaded, total);
  }
  const out = new Uint8Array(loaded);
  let p = 0;
  for (const c of chunks) {
    out.set(c, p);
    p += c.byteLength;
  }
  return out;
}

/** A pack served over HTTP(S): `<baseUrl>/manifest.json` and the files it lists. */
export async function openUrlPack(baseUrl: string): Promise<PackSource> {
  const base = baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`;
  const raw = await fetchBytes(`${base}manifest.json`);
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(raw));
  } catch {
    throw new PackInvalidError(`${base}manifest.json is not JSON`);
  }
  let manifest: PackManifest;
  try {
    manifest = parseManifest(json);
  } catch (e) {
    if (e instanceof ManifestError) throw new PackInvalidError(e.message);
    throw e;
  }
  return {
    manifest,
    async read(path, onProgress) {
      const entry = fileEntry(manifest, path);
      const data = await fetchBytes(new URL(entry.path, base).href, onProgress);
      await verifyFile(entry, data);
      return data;
    },
  };
}
