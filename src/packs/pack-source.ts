// Where the engine reads a pack's files from: the one interface between the engine and pack
// delivery. The sources in sources/ (URL packs kept in storage, local folders, Node folders)
// implement it; every file is checked against the manifest's size and sha256 before anyone uses it.
import { LaVieError, type ErrorInfo } from '../protocol/errors.ts';
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

/** A damaged pack file (or manifest): `path` names it, for the user too. */
export class PackInvalidError extends LaVieError {
  constructor(message: string, readonly path?: string) {
    super('pack-invalid', message);
  }

  override toInfo(): ErrorInfo {
    return { ...super.toInfo(), ...(this.path ? { file: this.path } : {}) };
  }
}

/** No pack at the address (HTTP 404/410, or a web page where manifest.json should be). */
export class PackNotFoundError extends LaVieError {
  constructor(message: string, readonly url?: string) {
    super('pack-not-found', message);
  }
}

/** The address is outside the hosts this deployment loads packs from. */
export class PackHostRefusedError extends LaVieError {
  constructor(message: string, readonly url?: string) {
    super('pack-host-refused', message);
  }
}

/** The pack's host cannot be reached and the files needed are not stored. */
export class OfflineError extends LaVieError {
  constructor(message: string, readonly url?: string) {
    super('offline', message);
  }
}
