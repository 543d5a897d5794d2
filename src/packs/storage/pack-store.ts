// Where downloaded packs live on the visitor's machine. Files are stored under their sha256, and a
// file exists under that name only after its bytes were verified: an interrupted or corrupt
// download can never be mistaken for a good one. Unfinished downloads are kept aside as partials so
// they can resume with an HTTP Range request.
import { LaVieError, isDomException } from '../../protocol/errors.ts';
import type { PackPersonalization } from '../manifest.ts';

export interface StoredPackInfo {
  /** Stable key of the pack (derived from where it came from). */
  key: string;
  /** Where it came from, e.g. the base URL. */
  origin: string;
  name: string;
  /** Bytes of verified files on disk, and of the whole pack. */
  bytes: number;
  totalBytes: number;
  complete: boolean;
  savedAt: number;
  /** The stored pack this one was derived from (a personalized pack shares its unchanged files). */
  base?: string;
  /** What was merged into its weights (LoRAs with multipliers). */
  personalization?: PackPersonalization;
}

/** Appends to a partial file. `close` keeps what was written (for a later resume). */
export interface PartialWriter {
  write(chunk: Uint8Array): Promise<void>;
  close(): Promise<void>;
}

export interface PackStore {
  readonly kind: 'opfs' | 'cache' | 'memory' | 'fs';
  /** A verified file, or null. */
  file(pack: string, sha256: string): Promise<Blob | null>;
  /** The bytes of an unfinished download, or null. */
  partial(pack: string, sha256: string): Promise<Blob | null>;
  /** Writer appending to the partial (truncating it first when `fresh`). */
  writer(pack: string, sha256: string, fresh: boolean): Promise<PartialWriter>;
  /** The partial is complete and verified: make it the file. */
  commit(pack: string, sha256: string): Promise<void>;
  /** Forget a partial (e.g. it failed verification). */
  discard(pack: string, sha256: string): Promise<void>;
  /** Small JSON documents of a pack (its manifest and info). */
  readJson(pack: string, name: 'manifest' | 'info'): Promise<unknown>;
  writeJson(pack: string, name: 'manifest' | 'info', value: unknown): Promise<void>;
  /** Names (sha256) of verified files of a pack. */
  files(pack: string): Promise<{ sha256: string; bytes: number }[]>;
  /** Delete verified files of a pack that are not in `keep` (a newer manifest no longer lists them). */
  prune(pack: string, keep: Set<string>): Promise<void>;
  packs(): Promise<string[]>;
  deletePack(pack: string): Promise<void>;
}

export class StorageFullError extends LaVieError {
  constructor(message: string) {
    super('storage-full', message);
  }
}

/** Storage failures (quota, I/O) as typed errors. */
export function storageError(e: unknown, what: string): Error {
  if (isDomException(e, DOMException.QUOTA_EXCEEDED_ERR)) return new StorageFullError(`Not enough storage to ${what}. Free space (Storage panel) or allow more for this site.`);
  return e instanceof Error ? e : new Error(String(e));
}

/** A short stable key for a pack's origin (a URL or a label). */
export function packKey(origin: string): string {
  let h1 = 0x811c9dc5, h2 = 0x01000193;
  for (let i = 0; i < origin.length; i++) {
    const c = origin.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 0x01000193) >>> 0;
    h2 = Math.imul(h2 ^ c, 0x5bd1e995) >>> 0;
  }
  return `p${h1.toString(16).padStart(8, '0')}${h2.toString(16).padStart(8, '0')}`;
}
