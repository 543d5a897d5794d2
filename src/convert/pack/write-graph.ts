// Write a built graph as `<name>.onnx` plus external weight shards into a pack sink, streaming one
// initializer at a time (a full-size UNet's weights never sit in memory together); the sink hashes
// as it writes.
import { joinPath, writeWhole, type FileSink, type PackSink } from '../io/bytes.ts';
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
  /** File name of weight shard i (default `<name>.weights-NN.bin`); transformers.js expects its own names. */
  shardName?: (i: number) => string;
}

/** A written graph plus where each external initializer landed (for `reuse`). */
export interface WrittenGraph extends GraphComponent {
  placements: Map<string, { location: string; offset: number; byteLength: number }>;
}

/** Constants that may differ between graphs sharing shards must be this small. */
const MAX_UNSHARED_BYTES = 4 << 20;

/** Writes `<dir>/<name>.onnx` (+ `<name>.weights-NN.bin`) into the pack; returns the manifest record. */
export async function writeGraph(g: GraphBuilder, sink: PackSink, dir: string, name: string, opts: WriteGraphOptions): Promise<WrittenGraph> {
  const shardLimit = opts.shardBytes ?? DEFAULT_SHARD_BYTES;
  const placement = new Map<Initializer, { location: string; offset: number }>();
  const shards: { file: string; bytes: number; out: FileSink; sha256?: string }[] = [];
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
        const file = opts.shardName?.(shards.length) ?? `${name}.weights-${String(shards.length).padStart(2, '0')}.bin`;
        if (cur) cur.sha256 = cur.out.close().sha256;
        cur = { file, bytes: 0, out: await sink.create(joinPath(dir, file)) };
        shards.push(cur);
      }
      const bytes = init.bytes();
      if (bytes.byteLength !== init.byteLength) throw new Error(`${init.name}: ${bytes.byteLength} bytes, declared ${init.byteLength}`);
      placement.set(init, { location: cur.file, offset: cur.bytes });
      cur.out.write(bytes);
      cur.out.write(new Uint8Array(padded - init.byteLength));
      cur.bytes += padded;
    }
    if (cur) cur.sha256 = cur.out.close().sha256;
  }
  const model = g.encode(external ? (init) => placement.get(init) : undefined);
  const rel = (f: string) => joinPath(dir, f);
  const graph: PackFile = await writeWhole(sink, rel(`${name}.onnx`), model);
  const placements = new Map<string, { location: string; offset: number; byteLength: number }>();
  for (const [init, at] of placement) placements.set(init.name, { ...at, byteLength: init.byteLength });
  return {
    graph,
    placements,
    externalData: reuse ? reuse.externalData : shards.map((s) => ({ path: rel(s.file), bytes: s.bytes, sha256: s.sha256! })),
    precision: opts.precision,
    nodes: g.nodes.length,
    largestTensorBytes: g.largestIntermediate()?.bytes ?? 0,
    peakLiveBytes: g.peakLiveBytes().bytes,
    inputs: g.inputs.map((v) => ({ name: v.name, dtype: v.dtype as IoDType, shape: [...v.shape] })),
    outputs: g.outputs.map((v) => ({ name: v.name, dtype: v.dtype as IoDType, shape: [...v.shape] })),
  };
}

/**
 * Write `g` and, beside it, its fp16-compute variant `<name>.f16.onnx` (for shader-f16 adapters),
 * which points into the same weight shards.
 */
export async function writeGraphWithF16(g: GraphBuilder, sink: PackSink, dir: string, name: string, opts: WriteGraphOptions): Promise<WrittenGraph> {
  const written = await writeGraph(g, sink, dir, name, opts);
  const f16 = await writeGraph(fp16Compute(g), sink, dir, `${name}.f16`, { ...opts, reuse: opts.reuse ?? written });
  return { ...written, graphF16: f16.graph, ...(f16.peakLiveBytes !== undefined ? { peakLiveBytesF16: f16.peakLiveBytes } : {}) };
}

/** The manifest record of a written graph (without the shard placements). */
export function componentOf(w: WrittenGraph): GraphComponent {
  const { placements: _placements, ...c } = w;
  return c;
}
