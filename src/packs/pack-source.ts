// Where the engine reads a pack's files from: the one interface between the engine and pack
// delivery. The sources in sources/ (URL packs kept in storage, local folders, Node folders)
// implement it; every file is checked against the manifest's size and sha256 before anyone uses it.
import { LaVieError } from '../protocol/errors.ts';
import type { PackManifest } from './manifest.ts';

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
