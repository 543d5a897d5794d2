// The converter's byte sources and sinks over Node's file system (the browser's live in the
// conversion worker), plus path-taking conveniences for the CLIs, tests and benchmarks.
import { createHash } from 'node:crypto';
import { closeSync, existsSync, fstatSync, mkdirSync, mkdtempSync, openSync, readSync, renameSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { CheckpointError } from '../errors.ts';
import { type ByteSource, type FileSink, type PackSink, type SourceFolder } from '../io/bytes.ts';
import { openCheckpoint } from '../io/checkpoint.ts';
import { encodeSafetensors, readSafetensors, streamSafetensors, type NamedArray } from '../io/safetensors.ts';
import { writeTorchCheckpoint, writeTorchZip, type ByteWriter, type TorchWriteOptions } from '../io/torch-writer.ts';
import { syntheticTokenizerFolderFiles } from '../pack/synthetic-tokenizer.ts';
import { writeGraph } from '../pack/write-graph.ts';
import { writePack, type PackSpec } from '../pack/write-pack.ts';
import type { GraphBuilder } from '../onnx/graph.ts';
import type { StateDict } from '../tensor.ts';
import { readTokenizerFolder, type TokenizerFolderFiles } from '../tokenizer.ts';
import type { PackManifest } from '../../packs/manifest.ts';

/** Positional reads; the file is opened per read, so thousands of lazily read tensors hold no descriptors. */
export function nodeFileSource(path: string): ByteSource {
  const fd = openSync(path, 'r');
  const size = fstatSync(fd).size;
  closeSync(fd);
  return {
    size,
    read(offset, length) {
      const buf = Buffer.alloc(Math.max(0, Math.min(length, size - offset)));
      const f = openSync(path, 'r');
      try {
        let done = 0;
        while (done < buf.length) {
          const n = readSync(f, buf, done, buf.length - done, offset + done);
          if (n === 0) break;
          done += n;
        }
        return new Uint8Array(buf.buffer, buf.byteOffset, done);
      } finally {
        closeSync(f);
      }
    },
  };
}

export function nodeFolder(dir: string): SourceFolder {
  return {
    name: dir,
    has: (p) => statSync(join(dir, p), { throwIfNoEntry: false })?.isFile() ?? false,
    async open(p) {
      const path = join(dir, p);
      if (!existsSync(path)) throw new CheckpointError('bad-format', `${path}: no such file`, { file: path });
      return nodeFileSource(path);
    },
  };
}

function fileSink(path: string): FileSink {
  mkdirSync(dirname(path), { recursive: true });
  const fd = openSync(path, 'w');
  const hash = createHash('sha256');
  let bytes = 0;
  return {
    write(chunk) {
      let off = 0;
      while (off < chunk.byteLength) off += writeSync(fd, chunk, off);
      hash.update(chunk);
      bytes += chunk.byteLength;
    },
    close() {
      closeSync(fd);
      return { bytes, sha256: hash.digest('hex') };
    },
  };
}

/**
 * A pack written into a hidden sibling folder and renamed to `outDir` on commit, replacing what
 * was there; abort removes it. A reader of `outDir` sees the old pack or the new one, never half.
 */
export function dirPackSink(outDir: string): PackSink {
  const tmp = join(dirname(outDir), `.${basename(outDir)}.converting-${process.pid}`);
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  return {
    async create(path) {
      return fileSink(join(tmp, path));
    },
    async commit() {
      const old = `${tmp}.old`;
      if (existsSync(outDir)) renameSync(outDir, old);
      renameSync(tmp, outDir);
      rmSync(old, { recursive: true, force: true });
    },
    async abort() {
      rmSync(tmp, { recursive: true, force: true });
    },
  };
}

/**
 * Write a built graph into a fresh temporary folder as `<name>.onnx` + weight shards (protobuf caps
 * an inline model at 2 GB; onnxruntime-node resolves the shards next to the .onnx). `dispose`
 * removes the folder.
 */
export async function writeGraphToTemp(g: GraphBuilder): Promise<{ path: string; dispose(): void }> {
  const dir = mkdtempSync(join(tmpdir(), 'lavie-graph-'));
  try {
    const sink = dirPackSink(join(dir, 'g'));
    const written = await writeGraph(g, sink, '', 'model', { precision: 'fp32' });
    await sink.commit();
    return { path: join(dir, 'g', written.graph.path), dispose: () => rmSync(dir, { recursive: true, force: true }) };
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}

/** Convert into a folder (atomically, see dirPackSink). */
export function writePackToDir(outDir: string, spec: PackSpec): Promise<PackManifest> {
  return writePack(dirPackSink(outDir), spec);
}

export function openCheckpointFile(path: string): StateDict {
  if (!statSync(path, { throwIfNoEntry: false })?.isFile()) throw new CheckpointError('bad-format', `${path}: no such file`, { file: path });
  return openCheckpoint(nodeFileSource(path), path);
}

export function readSafetensorsFile(path: string): StateDict {
  return readSafetensors(nodeFileSource(path), path);
}

export function readTokenizerDir(dir: string): Promise<TokenizerFolderFiles> {
  return readTokenizerFolder(nodeFolder(dir), '');
}

function fileWriter(path: string): ByteWriter & { close(): void } {
  const fd = openSync(path, 'w');
  return { write: (b) => { writeSync(fd, b); }, close: () => closeSync(fd) };
}

export function writeTorchCheckpointFile(path: string, sd: StateDict, opts: TorchWriteOptions = {}): number {
  const w = fileWriter(path);
  try {
    return writeTorchCheckpoint(w, sd, opts);
  } finally {
    w.close();
  }
}

export function writeTorchZipFile(path: string, pkl: Uint8Array, storages: (() => Uint8Array)[], archive?: string): number {
  const w = fileWriter(path);
  try {
    return writeTorchZip(w, pkl, storages, archive);
  } finally {
    w.close();
  }
}

export function writeSafetensorsFile(path: string, tensors: Record<string, NamedArray>, metadata?: Record<string, string>): void {
  writeFileSync(path, encodeSafetensors(tensors, metadata));
}

/** A state dict as a float32 safetensors file, streamed (a full-size UNet never sits in memory whole). */
export function writeStateDictSafetensorsFile(path: string, sd: StateDict): number {
  const w = fileWriter(path);
  try {
    return streamSafetensors(w, Object.fromEntries([...sd].map(([k, t]) => [k, { dtype: 'float32' as const, shape: t.shape, bytes: () => { const d = t.read(); return new Uint8Array(d.buffer, d.byteOffset, d.byteLength); } }])));
  } finally {
    w.close();
  }
}

/** The synthetic tokenizer as an SD-1.4 `tokenizer/` folder on disk. Returns the vocabulary size. */
export function writeSyntheticTokenizerFolder(dir: string, opts: { padToken?: string } = {}): number {
  const { files, vocabSize } = syntheticTokenizerFolderFiles(opts);
  mkdirSync(dir, { recursive: true });
  for (const [name, bytes] of files) writeFileSync(join(dir, name), bytes);
  return vocabSize;
}
