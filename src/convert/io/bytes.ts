// How the converter touches files: it never opens a path itself. Checkpoints and folders come in as
// byte sources, packs go out through a sink; Node implements both over the file system
// (cli/node-io.ts), the browser's conversion worker over Blobs and OPFS. Reads and writes are
// synchronous because the graph builders pull one tensor at a time while they build (a dedicated
// worker reads Blobs with FileReaderSync and writes OPFS sync access handles); only opening and
// publishing, which the browser can only do asynchronously, return promises.
import { CheckpointError } from '../errors.ts';

/** Random access to the bytes of one file. `read` may return fewer bytes only at the end; callers
 * treat what it returns as read-only (a source may hand out views of its own buffer). */
export interface ByteSource {
  readonly size: number;
  read(offset: number, length: number): Uint8Array;
}

export function bufferSource(b: Uint8Array): ByteSource {
  return { size: b.byteLength, read: (o, l) => b.subarray(o, Math.min(b.byteLength, o + l)) };
}

/** A folder of inputs (an SD folder, a Hub snapshot, dropped files). Paths are relative, '/'-separated. */
export interface SourceFolder {
  /** Shown in messages (a path, a repo id). */
  readonly name: string;
  has(path: string): boolean;
  open(path: string): Promise<ByteSource>;
}

/** One output file, written front to back. `close` returns its size and sha256 (hex). */
export interface FileSink {
  write(chunk: Uint8Array): void;
  close(): { bytes: number; sha256: string };
}

/**
 * Where a pack is written. Nothing is visible as a pack until `commit` (after manifest.json is
 * written): a conversion that fails or is cancelled half-way leaves nothing that looks usable.
 */
export interface PackSink {
  create(path: string): Promise<FileSink>;
  commit(): Promise<void>;
  /** Drop everything written so far (files kept by `checkpoint` stay for a resume). */
  abort(): Promise<void>;
  /**
   * Optional, for a conversion that can resume: a network's files are written; keep them (and its
   * manifest record) so that an interrupted conversion need not build it again.
   */
  checkpoint?(step: string, record: unknown): Promise<void>;
  /** The record of a network an earlier, interrupted conversion already wrote (its files are kept). */
  resumed?(step: string): unknown;
}

/** Write a whole small file; returns its manifest record. */
export async function writeWhole(sink: PackSink, path: string, data: Uint8Array | string): Promise<{ path: string; bytes: number; sha256: string }> {
  const f = await sink.create(path);
  f.write(typeof data === 'string' ? new TextEncoder().encode(data) : data);
  return { path, ...f.close() };
}

export function joinPath(...parts: string[]): string {
  return parts.filter(Boolean).join('/').replace(/\/+/g, '/');
}

/** The first of `names` present in `dir` of the folder, or a typed error naming what is missing. */
export function firstPresent(folder: SourceFolder, dir: string, names: readonly string[], what: string): string {
  for (const n of names) if (folder.has(joinPath(dir, n))) return joinPath(dir, n);
  throw new CheckpointError('missing-key', `${joinPath(folder.name, dir)}: no ${what} (looked for ${names.join(', ')})`, { file: joinPath(folder.name, dir) });
}

export async function readText(folder: SourceFolder, path: string): Promise<string> {
  const src = await folder.open(path);
  return new TextDecoder().decode(src.read(0, src.size));
}

export async function readJson(folder: SourceFolder, path: string): Promise<Record<string, unknown>> {
  const text = await readText(folder, path);
  try {
    return JSON.parse(text);
  } catch (e) {
    const file = joinPath(folder.name, path);
    throw new CheckpointError('bad-format', `${file}: not valid JSON (${(e as Error).message})`, { file });
  }
}

/** `dir/config.json` merged over `defaults`, or the defaults when the folder has none. */
export async function configOr<T>(folder: SourceFolder, path: string, defaults: T): Promise<T> {
  return folder.has(path) ? ({ ...defaults, ...(await readJson(folder, path)) } as T) : defaults;
}

/** A folder over in-memory files (tests, small dropped sets). */
export function memoryFolder(name: string, files: Map<string, Uint8Array>): SourceFolder {
  return {
    name,
    has: (p) => files.has(p),
    async open(p) {
      const b = files.get(p);
      if (!b) throw new CheckpointError('bad-format', `${joinPath(name, p)}: no such file`, { file: joinPath(name, p) });
      return bufferSource(b);
    },
  };
}
