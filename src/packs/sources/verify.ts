// Checks shared by the sources: a path must be listed in the manifest, and its bytes must have the
// listed size and sha256.
import { packFiles, type PackFile, type PackManifest } from '../manifest.ts';
import { PackInvalidError } from '../pack-source.ts';

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
