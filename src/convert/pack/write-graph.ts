// Write a built graph as `<name>.onnx` plus external weight shards, streaming one initializer at a
// time (a full-size UNet's weights never sit in memory together) and hashing as it writes.
import { createHash } from 'node:crypto';
import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { fp16Compute } from '../onnx/fp16-compute.ts';
import type { GraphBuilder, Initializer } from '../onnx/graph.ts';
import type { GraphComponent, IoDType, PackFile, WeightPrecision } from '../../packs/manifest.ts';

/** ORT-web and Chrome cap single buffers near 2 GB; stay well below. */
export const DEFAULT_SHARD_BYTES = 1_900_000_000;
const ALIGN = 64;
/** Initializers smaller than this stay inside the .onnx file. */
const INLINE_BELOW = 1024;

export interface WriteGraphOptions {
  shardBytes?: number;
  precision: WeightPrecision;
  /** Put all weights inside the .onnx (tiny graphs; must stay < 2 GB). */
  inline?: boolean;
  /**
   * Reference the shards another graph of the same network already wrote (e.g. the VSR UNet for a
   * shorter last window): initializers with the same name and size point into those shards;
   * anything else (small frame-dependent constants) is stored inside the .onnx.
   */
  reuse?: WrittenGraph;
}

/** A written graph plus where each external initializer landed (for `reuse`). */
export interface WrittenGraph extends GraphComponent {
  placements: Map<string, { location: string; offset: number; byteLength: number }>;
}

/** Constants that may differ between graphs sharing shards must be this small. */
const MAX_UNSHARED_BYTES = 4 << 20;

function sha256File(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/** Writes `<dir>/<name>.onnx` (+ `<name>.weights-NN.bin`); returns the manifest record with paths relative to `relDir`. */
export function writeGraph(g: GraphBuilder, dir: string, name: string, relDir: string, opts: WriteGraphOptions): WrittenGraph {
  const shardLimit = opts.shardBytes ?? DEFAULT_SHARD_BYTES;
  const placement = new Map<Initializer, { location: string; offset: number }>();
  const shards: { file: string; bytes: number; hash: ReturnType<typeof createHash>; fd: number }[] = [];
  const external = !opts.inline;
  const reuse = opts.reuse;
  if (reuse) {
    for (const init of g.initializers) {
      const at = reuse.placements.get(init.name);
      if (at && at.byteLength === init.byteLength) placement.set(init, at);
      else if (init.byteLength > MAX_UNSHARED_BYTES) throw new Error(`${name}: initializer ${init.name} (${init.byteLength} bytes) is not in the shared shards`);
    }
  } else if (external) {
    let cur: (typeof shards)[number] | undefined;
    for (const init of g.initializers) {
      if (init.byteLength < INLINE_BELOW) continue;
      const padded = Math.ceil(init.byteLength / ALIGN) * ALIGN;
      if (!cur || (cur.bytes > 0 && cur.bytes + padded > shardLimit)) {
        const file = `${name}.weights-${String(shards.length).padStart(2, '0')}.bin`;
        cur = { file, bytes: 0, hash: createHash('sha256'), fd: openSync(join(dir, file), 'w') };
        shards.push(cur);
      }
      const bytes = init.bytes();
      if (bytes.byteLength !== init.byteLength) throw new Error(`${init.name}: ${bytes.byteLength} bytes, declared ${init.byteLength}`);
      placement.set(init, { location: cur.file, offset: cur.bytes });
      writeSync(cur.fd, bytes);
      cur.hash.update(bytes);
      const pad = new Uint8Array(padded - init.byteLength);
      writeSync(cur.fd, pad);
      cur.hash.update(pad);
      cur.bytes += padded;
    }
    for (const s of shards) closeSync(s.fd);
  }
  const model = g.encode(external ? (init) => placement.get(init) : undefined);
  const graphPath = join(dir, `${name}.onnx`);
  const fd = openSync(graphPath, 'w');
  writeSync(fd, model);
  closeSync(fd);
  const rel = (f: string) => (relDir ? `${relDir}/${f}` : f);
  const graph: PackFile = { path: rel(`${name}.onnx`), bytes: model.byteLength, sha256: sha256File(graphPath) };
  const placements = new Map<string, { location: string; offset: number; byteLength: number }>();
  for (const [init, at] of placement) placements.set(init.name, { ...at, byteLength: init.byteLength });
  return {
    graph,
    placements,
    externalData: reuse ? reuse.externalData : shards.map((s) => ({ path: rel(s.file), bytes: s.bytes, sha256: s.hash.digest('hex') })),
    precision: opts.precision,
    nodes: g.nodes.length,
    largestTensorBytes: g.largestIntermediate()?.bytes ?? 0,
    inputs: g.inputs.map((v) => ({ name: v.name, dtype: v.dtype as IoDType, shape: [...v.shape] })),
    outputs: g.outputs.map((v) => ({ name: v.name, dtype: v.dtype as IoDType, shape: [...v.shape] })),
  };
}

/**
 * Write `g` and, beside it, its fp16-compute variant `<name>.f16.onnx` (for shader-f16 adapters),
 * which points into the same weight shards.
 */
export function writeGraphWithF16(g: GraphBuilder, dir: string, name: string, relDir: string, opts: WriteGraphOptions): WrittenGraph {
  const written = writeGraph(g, dir, name, relDir, opts);
  const f16 = writeGraph(fp16Compute(g), dir, `${name}.f16`, relDir, { ...opts, reuse: opts.reuse ?? written });
  return { ...written, graphF16: f16.graph };
}

/** The manifest record of a written graph (without the shard placements). */
export function componentOf(w: WrittenGraph): GraphComponent {
  const { placements: _placements, ...c } = w;
  return c;
}

export function describeFile(dir: string, relPath: string): PackFile {
  const data = readFileSync(join(dir, relPath));
  return { path: relPath, bytes: data.byteLength, sha256: createHash('sha256').update(data).digest('hex') };
}
