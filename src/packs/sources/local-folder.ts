// A pack in a folder on the visitor's disk, chosen with the File System Access API
// (showDirectoryPicker) or <input webkitdirectory>. Nothing is copied: files are read where they
// are, each checked against the manifest (size + sha256, streamed) before its first use.
import { ManifestError, parseManifest } from '../manifest.ts';
import { hashBlob } from '../download/sha256.ts';
import { PackInvalidError, type PackSource } from '../pack-source.ts';
import { fileEntry } from './verify.ts';

/** Relative path → file, as picked. Paths use '/', relative to the pack's root (where manifest.json is). */
export type LocalFiles = Map<string, Blob>;

/** Files from <input webkitdirectory>: strip the picked folder's own name from webkitRelativePath. */
export function filesFromFileList(list: ArrayLike<File>): LocalFiles {
  const out: LocalFiles = new Map();
  for (const f of Array.from(list)) {
    const rel = (f as File & { webkitRelativePath?: string }).webkitRelativePath || f.name;
    out.set(rel.split('/').slice(1).join('/') || f.name, f);
  }
  return out;
}

/** Files under a FileSystemDirectoryHandle (recursively). */
export async function filesFromDirectory(dir: FileSystemDirectoryHandle, prefix = '', out: LocalFiles = new Map()): Promise<LocalFiles> {
  for await (const [name, h] of (dir as unknown as { entries(): AsyncIterable<[string, FileSystemHandle]> }).entries()) {
    if (h.kind === 'file') out.set(prefix + name, await (h as FileSystemFileHandle).getFile());
    else await filesFromDirectory(h as FileSystemDirectoryHandle, `${prefix}${name}/`, out);
  }
  return out;
}

export async function openLocalPack(files: LocalFiles, onVerify?: (path: string, done: number, total: number) => void): Promise<PackSource> {
  // Accept the pack's folder itself or its parent (one level of nesting, e.g. a zip extracted into a folder).
  let prefix = '';
  if (!files.has('manifest.json')) {
    const nested = [...files.keys()].filter((p) => /^[^/]+\/manifest\.json$/.test(p));
    if (nested.length !== 1) throw new PackInvalidError('The chosen folder has no manifest.json: choose the folder that a LaVie Web pack was converted into.');
    prefix = nested[0]!.slice(0, -'manifest.json'.length);
  }
  let manifest;
  try {
    manifest = parseManifest(JSON.parse(await files.get(`${prefix}manifest.json`)!.text()));
  } catch (e) {
    if (e instanceof ManifestError || e instanceof SyntaxError) throw new PackInvalidError(`manifest.json: ${e.message}`);
    throw e;
  }
  const verified = new Map<string, Promise<Blob>>();
  const blob = (path: string): Promise<Blob> => {
    let p = verified.get(path);
    if (!p) {
      p = (async () => {
        const entry = fileEntry(manifest, path);
        const f = files.get(prefix + entry.path);
        if (!f) throw new PackInvalidError(`${entry.path} is missing from the chosen folder`, entry.path);
        if (f.size !== entry.bytes) throw new PackInvalidError(`${entry.path}: ${f.size} bytes, manifest says ${entry.bytes} (truncated or wrong file)`, entry.path);
        let done = 0;
        const h = await hashBlob(f, undefined, (n) => onVerify?.(entry.path, (done += n), entry.bytes));
        if (h.hex() !== entry.sha256) throw new PackInvalidError(`${entry.path}: sha256 mismatch (corrupt or wrong file)`, entry.path);
        return f;
      })();
      p.catch(() => verified.delete(path));
      verified.set(path, p);
    }
    return p;
  };
  return {
    manifest,
    blob,
    async read(path) {
      return new Uint8Array(await (await blob(path)).arrayBuffer());
    },
  };
}
