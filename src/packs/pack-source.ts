// Where the engine reads a pack's files from. The engine sees only this interface; the sources in
// sources/ (URL packs kept in storage, local folders, Node folders) implement it. Every file is
// checked against the manifest's size and sha256 before anyone uses it.
import { LaVieError } from '../protocol/errors.ts';
import { packFiles, type PackFile, type PackManifest } from './manifest.ts';

export interface PackSource {
  readonly manifest: PackManifest;
  /** Bytes of a file listed in the manifest, verified. */
  read(path: string, onProgress?: (loaded: number, total: number) => void): Promise<Uint8Array>;
  /** The same bytes as a (possibly disk-backed) Blob, when the source has one: large weight shards
   * go to ORT this way instead of as a copy in JS memory. */
  blob?(path: string): Promise<Blob>;
}

export class PackDownloadError extends LaVieError {
  constructor(message: string, readonly url?: string) {
    super('pack-download', message);
  }
}

export class PackInvalidError extends LaVieError {
  constructor(message: string, readonly path?: string) {
    super('pack-invalid', message);
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
