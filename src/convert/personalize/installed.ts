// Personalize an installed pack: apply LoRAs or a fine-tuned checkpoint to the weights a pack already
// stores, without LaVie's original checkpoints. The pack's graphs say where each weight lives (an initializer inline in the
// .onnx or a range of a weight shard) and how it is stored; each weight a LoRA or checkpoint changes is read back
// (dequantized: graphs/weights.ts in reverse), merged by the converter's own `personalize`, and
// stored again at the pack's precision with the converter's own quantizers. Sizes never change, so
// the result is a list of byte-range patches of a few files; every other file stays as it is.
import { CheckpointError } from '../errors.ts';
import type { UNet3DConfig } from '../graphs/unet3d.ts';
import { MATMUL_NBITS_BLOCK, quantizeInt8, quantizeNBits4 } from '../graphs/weights.ts';
import { joinPath } from '../io/bytes.ts';
import { ONNX_DTYPE } from '../onnx/graph.ts';
import { readOnnxIndex, type InitializerInfo, type OnnxIndex } from '../onnx/read-initializers.ts';
import { f16ToF32, f32ToF16, transpose2d, type StateDict, type TensorRef } from '../tensor.ts';
import { CancelledError } from '../../protocol/errors.ts';
import type { GraphComponent, PackManifest, PackPersonalization } from '../../packs/manifest.ts';
import { personalize, type PersonalizeSpec } from './apply.ts';

/** Read access to the installed pack's files (paths as in its manifest). */
export interface InstalledFiles {
  read(path: string): Promise<Uint8Array>;
  slice(path: string, offset: number, length: number): Promise<Uint8Array>;
}

/**
 * A byte range of a file rewritten with a merged weight. `bytes` computes it when the file is written
 * (dequantize → merge → requantize): a checkpoint rewrites the whole UNet, which is not held in memory.
 */
export interface FilePatch { offset: number; length: number; bytes(): Promise<Uint8Array> }
export interface FilePatches { path: string; patches: FilePatch[] }

export interface InstalledPlan {
  /** Byte-range rewrites per file of the pack (same sizes). */
  files: FilePatches[];
  /** The pack's personalization after this one (earlier merges kept, these LoRAs appended). */
  record: PackPersonalization;
  lines: string[];
  /** `unet:<key>` / `text:<key>` of each rewritten weight. */
  changed: Set<string>;
}

export interface InstalledOptions {
  skipUnmatched?: boolean;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
}

/** How one weight is stored: its initializers and how to turn them into float32 `[out, …]` and back. */
interface StoredWeight {
  shape: number[];
  precision: 'fp32' | 'fp16' | 'int8' | 'int4';
  layout: 'linear' | 'conv' | 'plain';
  names: string[];
}

const SUFFIX = /:(f16|i8|scale|q4|q4scale|\d+(?:x\d+)*)$/;

/** A graph component (one network's graphs sharing weight shards) with its parsed graphs. */
interface Net { graphs: { path: string; dir: string; bytes: Uint8Array; index: OnnxIndex }[] }

async function openNet(files: InstalledFiles, comps: GraphComponent[]): Promise<Net> {
  const graphs: Net['graphs'] = [];
  for (const c of comps) {
    for (const f of [c.graph, ...(c.graphF16 ? [c.graphF16] : [])]) {
      const bytes = await files.read(f.path);
      graphs.push({ path: f.path, dir: f.path.split('/').slice(0, -1).join('/'), bytes, index: readOnnxIndex(bytes) });
    }
  }
  return { graphs };
}

function describe(index: OnnxIndex, key: string): StoredWeight | undefined {
  const init = index.initializers;
  const q4 = init.get(`${key}:q4`);
  if (q4) {
    const node = index.nodes.find((n) => n.opType === 'MatMulNBits' && n.inputs[1] === `${key}:q4`);
    const K = node?.ints.get('K');
    const N = node?.ints.get('N');
    if (K === undefined || N === undefined) return undefined;
    return { shape: [N, K], precision: 'int4', layout: 'linear', names: [`${key}:q4`, `${key}:q4scale`] };
  }
  const i8 = init.get(`${key}:i8`);
  if (i8) return i8.dims.length === 2 ? { shape: [i8.dims[1]!, i8.dims[0]!], precision: 'int8', layout: 'linear', names: [`${key}:i8`, `${key}:scale`] } : { shape: i8.dims, precision: 'int8', layout: 'conv', names: [`${key}:i8`, `${key}:scale`] };
  const f16 = init.get(`${key}:f16`);
  if (f16) return f16.dims.length === 2 ? { shape: [f16.dims[1]!, f16.dims[0]!], precision: 'fp16', layout: 'linear', names: [`${key}:f16`] } : { shape: f16.dims, precision: 'fp16', layout: 'conv', names: [`${key}:f16`] };
  const f32 = init.get(key);
  if (f32 && f32.dataType === ONNX_DTYPE.float32) {
    // A float32 2-D weight is a Linear stored [in, out] when a MatMul reads it; otherwise a plain table.
    if (f32.dims.length === 2 && index.nodes.some((n) => n.opType === 'MatMul' && n.inputs[1] === key)) return { shape: [f32.dims[1]!, f32.dims[0]!], precision: 'fp32', layout: 'linear', names: [key] };
    if (f32.dims.length >= 3) return { shape: f32.dims, precision: 'fp32', layout: 'conv', names: [key] };
  }
  // A plain float32 tensor (norm scale, bias, table), possibly also viewed with other shapes
  // (`<key>:1x32x1x1`, graphs/weights.ts plainWeight): the same bytes under each name.
  const views = [...init.keys()].filter((n) => n.startsWith(key) && (n === key || /^:\d+(x\d+)*$/.test(n.slice(key.length))) && init.get(n)!.dataType === ONNX_DTYPE.float32);
  if (!views.length) return undefined;
  // Its state-dict shape: the un-reshaped view, else the view without its unit axes (norms are [C]).
  const shape = f32 && f32.dataType === ONNX_DTYPE.float32 ? f32.dims : init.get(views[0]!)!.dims.filter((d) => d !== 1);
  return { shape, precision: 'fp32', layout: 'plain', names: views };
}

/** Every state-dict key a graph stores (initializer names without the storage suffixes). */
function keysOf(index: OnnxIndex): string[] {
  return [...new Set([...index.initializers.keys()].map((n) => n.replace(SUFFIX, '')))];
}

/** The two things LoRA name resolution needs from the UNet config, read off its keys. */
function unetConfigOf(keys: readonly string[]): Pick<UNet3DConfig, 'layers_per_block' | 'up_block_types'> {
  let layers = 0;
  let ups = 0;
  const attn = new Set<number>();
  for (const k of keys) {
    let m = k.match(/^down_blocks\.0\.resnets\.(\d+)\./);
    if (m) layers = Math.max(layers, +m[1]! + 1);
    m = k.match(/^up_blocks\.(\d+)\.(attentions)?/);
    if (m) {
      ups = Math.max(ups, +m[1]! + 1);
      if (m[2]) attn.add(+m[1]!);
    }
  }
  return { layers_per_block: layers, up_block_types: Array.from({ length: ups }, (_, i) => (attn.has(i) ? 'CrossAttnUpBlock3D' : 'UpBlock3D')) };
}

const f32Of = (b: Uint8Array) => new Float32Array(b.slice().buffer);
const bytesOf = (a: ArrayBufferView) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

/** Bytes of an initializer of `g` (inline or in a shard). */
async function initBytes(files: InstalledFiles, g: Net['graphs'][number], it: InitializerInfo): Promise<Uint8Array> {
  if (it.raw) return g.bytes.subarray(it.raw.offset, it.raw.offset + it.raw.length);
  const e = it.external!;
  return files.slice(joinPath(g.dir, e.location), e.offset, e.length);
}

/** The stored weight as float32 in the state dict's orientation (`[out, in]` for linears). */
async function decode(files: InstalledFiles, g: Net['graphs'][number], w: StoredWeight): Promise<Float32Array> {
  const get = (n: string) => initBytes(files, g, g.index.initializers.get(n)!);
  const [out, cols] = [w.shape[0]!, w.shape.slice(1).reduce((a, b) => a * b, 1)];
  if (w.precision === 'int4') {
    const packed = await get(w.names[0]!);
    const scales = f32Of(await get(w.names[1]!));
    const blocks = Math.ceil(cols / MATMUL_NBITS_BLOCK);
    const r = new Float32Array(out * cols);
    for (let n = 0; n < out; n++) for (let k = 0; k < cols; k++) {
      const kb = Math.floor(k / MATMUL_NBITS_BLOCK);
      const byte = packed[(n * blocks + kb) * (MATMUL_NBITS_BLOCK / 2) + ((k % MATMUL_NBITS_BLOCK) >> 1)]!;
      r[n * cols + k] = ((k % 2 ? byte >> 4 : byte & 15) - 8) * scales[n * blocks + kb]!;
    }
    return r;
  }
  let stored: Float32Array;
  if (w.precision === 'int8') {
    const q = new Int8Array((await get(w.names[0]!)).slice().buffer);
    const scale = f32Of(await get(w.names[1]!));
    // Linears are stored [in, out] with a scale per column; convs [out, …] with one per row.
    stored = w.layout === 'linear' ? Float32Array.from(q, (v, i) => v * scale[i % out]!) : Float32Array.from(q, (v, i) => v * scale[Math.floor(i / cols)]!);
  } else if (w.precision === 'fp16') {
    const h = new Uint16Array((await get(w.names[0]!)).slice().buffer);
    stored = Float32Array.from(h, f16ToF32);
  } else {
    stored = f32Of(await get(w.names[0]!));
  }
  return w.layout === 'linear' ? transpose2d(stored, cols, out) : stored;
}

/** The merged float32 weight stored again as the converter would (graphs/weights.ts). */
function encode(w: StoredWeight, x: Float32Array): Uint8Array[] {
  const [out, cols] = [w.shape[0]!, w.shape.slice(1).reduce((a, b) => a * b, 1)];
  if (w.precision === 'int4') {
    const { packed, scales } = quantizeNBits4(x, out, cols);
    return [packed, bytesOf(scales)];
  }
  const s = w.layout === 'linear' ? transpose2d(x, out, cols) : x;
  if (w.layout === 'plain') return w.names.map(() => bytesOf(s));
  if (w.precision === 'fp32') return [bytesOf(s)];
  if (w.precision === 'fp16') return [bytesOf(Uint16Array.from(s, f32ToF16))];
  const { q, scale } = w.layout === 'linear' ? quantizeInt8(s, [cols, out], 1) : quantizeInt8(s, w.shape, 0);
  return [bytesOf(q), bytesOf(scale)];
}

/** A stored weight: the network whose graphs hold it, and how it is stored. */
interface Located { net: Net; w: StoredWeight }

/** Keys of a network's weights in state-dict form: graph constants (`time_freqs`, `up0/const`, `causal_mask`) are not parameters. */
const isParamKey = (k: string) => /\.(weight|bias)$/.test(k) && !k.includes('/');

/**
 * State dict view of networks' stored weights (several for the VAE: decoder and encoder graphs).
 * Values are read synchronously by the merge, so each is fetched (dequantized) into `cache` just
 * before its merged value is computed.
 */
function storedStateDict(nets: Net[], stored: Map<string, Located>, cache: Map<string, Float32Array>, tag: string): StateDict {
  const sd: StateDict = new Map();
  for (const net of nets) {
    const main = net.graphs[0]!;
    for (const key of keysOf(main.index)) {
      const w = isParamKey(key) ? describe(main.index, key) : undefined;
      if (!w) continue;
      stored.set(key, { net, w });
      sd.set(key, {
        dtype: 'float32', shape: w.shape,
        read: () => {
          const v = cache.get(`${tag}:${key}`);
          if (!v) throw new Error(`${key}: read before it was fetched`);
          return v;
        },
      } satisfies TensorRef);
    }
  }
  return sd;
}

type Tag = 'unet' | 'text' | 'vae';

/**
 * Plan the rewrite of an installed pack for `spec` (LoRAs and/or a fine-tuned checkpoint, merged by
 * the converter's own `personalize`): which bytes of which files change, each computed when it is
 * written. Errors are the converter's typed ones: layout ones (unmatched modules, wrong shapes,
 * SDXL/SD-2 files) here, value ones (NaN/Inf, truncated data) when the weight is computed.
 */
export async function planInstalledPersonalization(manifest: PackManifest, files: InstalledFiles, spec: PersonalizeSpec, o: InstalledOptions = {}): Promise<InstalledPlan> {
  const c = manifest.components;
  const before = manifest.personalization;
  if (spec.checkpoint && before && (before.checkpoint || before.loras.length)) {
    // The converter applies a checkpoint before any LoRA (LoRAs are trained on a checkpoint); the record keeps one checkpoint.
    throw new CheckpointError('wrong-base-model', `${spec.checkpoint.name}: "${manifest.name}" is already personalized; a fine-tuned checkpoint goes first — personalize the original pack with it`, { file: spec.checkpoint.name });
  }
  const nets: Record<Tag, Net[]> = {
    unet: [await openNet(files, [c.baseUnet, ...(c.longBaseUnets ?? [])])],
    text: [await openNet(files, [c.textEncoder])],
    // Packs from before the VAE encoder was written have only the decoder: the checkpoint's VAE is then left out.
    vae: c.vaeEncoder ? [await openNet(files, [c.vaeDecoder]), await openNet(files, [c.vaeEncoder])] : [],
  };
  const stored: Record<Tag, Map<string, Located>> = { unet: new Map(), text: new Map(), vae: new Map() };
  const cache = new Map<string, Float32Array>();
  const unet = storedStateDict(nets.unet, stored.unet, cache, 'unet');
  const text = storedStateDict(nets.text, stored.text, cache, 'text');
  const vae = nets.vae.length ? storedStateDict(nets.vae, stored.vae, cache, 'vae') : undefined;
  const merged = personalize({ unet, unetConfig: unetConfigOf([...unet.keys()]), text, ...(vae ? { vae } : {}) }, { ...spec, skipUnmatched: o.skipUnmatched ?? spec.skipUnmatched });
  const result: Record<Tag, StateDict | undefined> = { unet: merged.unet, text: merged.text, vae: merged.vae };
  const changed = [...merged.changed];
  // A few recent encodings: a weight's parts (int8 values + scales) and its views lie close together in a file.
  const recent = new Map<string, Promise<Uint8Array[]>>();
  const merged1 = new Set<string>();
  const compute = (tagged: string, tag: Tag, key: string, net: Net, w: StoredWeight): Promise<Uint8Array[]> => {
    let p = recent.get(tagged);
    if (!p) {
      p = (async () => {
        if (o.signal?.aborted) throw new CancelledError('Personalization cancelled; the installed pack is unchanged.');
        // Dequantize from the first graph, merge exactly as the converter does, store again.
        cache.set(tagged, await decode(files, net.graphs[0]!, w));
        try {
          const enc = encode(w, result[tag]!.get(key)!.read());
          if (!merged1.has(tagged)) o.onProgress?.(merged1.add(tagged).size, changed.length);
          return enc;
        } finally {
          cache.delete(tagged);
        }
      })();
      recent.set(tagged, p);
      if (recent.size > 4) recent.delete(recent.keys().next().value!);
    }
    return p;
  };
  const patches = new Map<string, Map<number, FilePatch>>();
  for (const tagged of changed) {
    const [tag, key] = [tagged.slice(0, tagged.indexOf(':')), tagged.slice(tagged.indexOf(':') + 1)] as [Tag, string];
    const { net, w } = stored[tag].get(key)!;
    if (w.layout === 'plain' && !spec.checkpoint) throw new CheckpointError('unknown-layout', `${key}: a LoRA changes this table, which a pack stores as a plain tensor; only Linear and Conv weights can be merged here`, { key });
    for (const g of net.graphs) {
      w.names.forEach((name, i) => {
        const it = g.index.initializers.get(name);
        if (!it) return;
        const length = it.raw?.length ?? it.external!.length;
        const [path, offset] = it.raw ? [g.path, it.raw.offset] : [joinPath(g.dir, it.external!.location), it.external!.offset];
        const bytes = async () => {
          const b = (await compute(tagged, tag, key, net, w))[i]!;
          if (length !== b.byteLength) throw new Error(`${g.path}: ${name} holds ${length} bytes, the merged weight ${b.byteLength}`);
          return b;
        };
        let m = patches.get(path);
        if (!m) patches.set(path, (m = new Map()));
        m.set(offset, { offset, length, bytes });
      });
    }
  }
  const record: PackPersonalization = {
    ...(before ?? { loras: [] }),
    ...(merged.record.checkpoint ? { checkpoint: merged.record.checkpoint } : {}),
    loras: [...(before?.loras ?? []), ...merged.record.loras],
  };
  return {
    files: [...patches].map(([path, m]) => ({ path, patches: [...m.values()].sort((a, b) => a.offset - b.offset) })),
    record,
    lines: merged.lines,
    changed: merged.changed,
  };
}


/** The weight `unet:<key>` / `text:<key>` / `vae:<key>` as an installed pack stores it, as float32 (`[out, …]`). */
export async function readInstalledWeight(manifest: PackManifest, files: InstalledFiles, tagged: string): Promise<Float32Array> {
  const c = manifest.components;
  const [tag, key] = [tagged.slice(0, tagged.indexOf(':')), tagged.slice(tagged.indexOf(':') + 1)];
  const comps = tag === 'text' ? [c.textEncoder] : tag === 'vae' ? [c.vaeDecoder, ...(c.vaeEncoder ? [c.vaeEncoder] : [])] : [c.baseUnet];
  for (const comp of comps) {
    const net = await openNet(files, [comp]);
    const w = describe(net.graphs[0]!.index, key);
    if (w) return decode(files, net.graphs[0]!, w);
  }
  throw new Error(`${tagged}: not stored in this pack`);
}
