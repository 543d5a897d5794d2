// How weights are stored in a graph. One switch per network:
//   fp32 — as is;
//   fp16 — conv/linear weights stored as float16 and Cast to float32 in the graph (half the bytes);
//   int8 — conv/linear weights int8 with a float scale per output channel → DequantizeLinear;
//   int4 — linear weights as com.microsoft MatMulNBits (4 bits, blocks of 32 along K, symmetric);
//          convs as int8 (there is no 4-bit conv kernel).
// Norm scales and biases stay float32: they are tiny and sensitive.
import { f32ToF16, numel, transpose2d, type Shape, type TensorRef } from '../tensor.ts';
import type { GraphBuilder, Value } from '../onnx/graph.ts';
import * as op from '../onnx/ops.ts';
import type { NetCtx } from './nn.ts';

export type WeightPrecision = 'fp32' | 'fp16' | 'int8' | 'int4';
export const WEIGHT_PRECISIONS: readonly WeightPrecision[] = ['fp32', 'fp16', 'int8', 'int4'];

const caches = new WeakMap<GraphBuilder, Map<string, Value[]>>();
function cached(g: GraphBuilder, key: string, make: () => Value[]): Value[] {
  let m = caches.get(g);
  if (!m) caches.set(g, (m = new Map()));
  let v = m.get(key);
  if (!v) m.set(key, (v = make()));
  return v;
}

const bytesOf = (a: ArrayBufferView): Uint8Array => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

/** A float32 parameter (norm scale, bias, embedding table), optionally viewed with another shape. */
export function plainWeight(ctx: NetCtx, key: string, t: TensorRef, shape?: Shape): Value {
  return cached(ctx.g, `plain:${key}:${shape ?? ''}`, () => {
    const s = shape ? [...shape] : [...t.shape];
    if (numel(s) !== numel(t.shape)) throw new Error(`plainWeight ${key}: [${t.shape}] as [${s}]`);
    return [ctx.g.addInitializer({ name: shape ? `${key}:${s.join('x')}` : key, dtype: 'float32', shape: s, byteLength: numel(s) * 4, source: key, bytes: () => bytesOf(t.read()) })];
  })[0]!;
}

/** Store `data` (float32 values, `shape`, output channel on `axis`) at the ctx precision; returns a float32 value. */
function storedFloat(ctx: NetCtx, key: string, shape: number[], axis: number, data: () => Float32Array): Value {
  const g = ctx.g;
  const n = numel(shape);
  if (ctx.precision === 'fp32') {
    return g.addInitializer({ name: key, dtype: 'float32', shape, byteLength: n * 4, source: key, bytes: () => bytesOf(data()) });
  }
  if (ctx.precision === 'fp16') {
    const w = g.addInitializer({
      name: `${key}:f16`, dtype: 'float16', shape, byteLength: n * 2, source: key,
      bytes: () => {
        const d = data();
        const out = new Uint16Array(d.length);
        for (let i = 0; i < d.length; i++) out[i] = f32ToF16(d[i]!);
        return bytesOf(out);
      },
    });
    return op.cast(g, w, 'float32');
  }
  // int8 per output channel, symmetric (zero point 0).
  const channels = shape[axis]!;
  let memo: { q: Int8Array; scale: Float32Array } | undefined;
  const quant = () => (memo ??= quantizeInt8(data(), shape, axis));
  const q = g.addInitializer({ name: `${key}:i8`, dtype: 'int8', shape, byteLength: n, source: key, bytes: () => { const r = bytesOf(quant().q); return r; } });
  const scale = g.addInitializer({ name: `${key}:scale`, dtype: 'float32', shape: [channels], byteLength: channels * 4, source: key, bytes: () => { const r = bytesOf(quant().scale); memo = undefined; return r; } });
  return g.op('DequantizeLinear', [q, scale], { axis }, { shape, dtype: 'float32' });
}

export function quantizeInt8(w: Float32Array, shape: readonly number[], axis: number): { q: Int8Array; scale: Float32Array } {
  const channels = shape[axis]!;
  const inner = shape.slice(axis + 1).reduce((s, d) => s * d, 1);
  const outer = shape.slice(0, axis).reduce((s, d) => s * d, 1);
  const absmax = new Float32Array(channels);
  for (let o = 0; o < outer; o++) for (let c = 0; c < channels; c++) {
    const base = (o * channels + c) * inner;
    for (let i = 0; i < inner; i++) absmax[c] = Math.max(absmax[c]!, Math.abs(w[base + i]!));
  }
  const scale = new Float32Array(channels);
  for (let c = 0; c < channels; c++) scale[c] = absmax[c]! > 0 ? absmax[c]! / 127 : 1;
  const q = new Int8Array(w.length);
  for (let o = 0; o < outer; o++) for (let c = 0; c < channels; c++) {
    const base = (o * channels + c) * inner;
    const s = scale[c]!;
    for (let i = 0; i < inner; i++) q[base + i] = Math.max(-127, Math.min(127, Math.round(w[base + i]! / s)));
  }
  return { q, scale };
}

/** Conv kernel `[Cout, Cin, kh, kw]` as a float32 value (int4 networks keep convs at int8). */
export function convWeight(ctx: NetCtx, key: string, t: TensorRef): Value {
  return cached(ctx.g, `conv:${key}`, () => {
    const sub = ctx.precision === 'int4' ? { ...ctx, precision: 'int8' as const } : ctx;
    return [storedFloat(sub, key, [...t.shape], 0, () => t.read())];
  })[0]!;
}

export const MATMUL_NBITS_BLOCK = 32;

/** y = x Wᵀ for a PyTorch Linear weight `[out, in]`. */
export function linearWeight(ctx: NetCtx, key: string, t: TensorRef, x: Value): Value {
  const g = ctx.g;
  const [outF, inF] = t.shape as [number, number];
  if (ctx.precision !== 'int4') {
    const w = cached(g, `linear:${key}`, () => [storedFloat(ctx, key, [inF, outF], 1, () => transpose2d(t.read(), outF, inF))])[0]!;
    return op.matmul(g, x, w);
  }
  const blocks = Math.ceil(inF / MATMUL_NBITS_BLOCK);
  const [b, scales] = cached(g, `nbits:${key}`, () => {
    let memo: { packed: Uint8Array; scales: Float32Array } | undefined;
    const quant = () => (memo ??= quantizeNBits4(t.read(), outF, inF));
    const bv = g.addInitializer({ name: `${key}:q4`, dtype: 'uint8', shape: [outF, blocks, MATMUL_NBITS_BLOCK / 2], byteLength: outF * blocks * 16, source: key, bytes: () => quant().packed });
    const sv = g.addInitializer({ name: `${key}:q4scale`, dtype: 'float32', shape: [outF * blocks], byteLength: outF * blocks * 4, source: key, bytes: () => { const r = bytesOf(quant().scales); memo = undefined; return r; } });
    return [bv, sv];
  }) as [Value, Value];
  return g.op('MatMulNBits', [x, b, scales], { K: inF, N: outF, bits: 4, block_size: MATMUL_NBITS_BLOCK }, { shape: [...x.shape.slice(0, -1), outF], dtype: 'float32' }, 'com.microsoft');
}

/**
 * MatMulNBits layout: for each output row n and K-block, 16 bytes holding 32 unsigned 4-bit values
 * (element 2i in the low nibble), value = (q − 8)·scale (the default zero point of 8).
 */
export function quantizeNBits4(w: Float32Array, outF: number, inF: number): { packed: Uint8Array; scales: Float32Array } {
  const B = MATMUL_NBITS_BLOCK;
  const blocks = Math.ceil(inF / B);
  const packed = new Uint8Array(outF * blocks * (B / 2));
  const scales = new Float32Array(outF * blocks);
  for (let n = 0; n < outF; n++) {
    for (let kb = 0; kb < blocks; kb++) {
      let amax = 0;
      for (let i = 0; i < B; i++) {
        const k = kb * B + i;
        if (k < inF) amax = Math.max(amax, Math.abs(w[n * inF + k]!));
      }
      const s = amax > 0 ? amax / 7 : 1;
      scales[n * blocks + kb] = s;
      for (let i = 0; i < B; i += 2) {
        const k = kb * B + i;
        const q0 = k < inF ? Math.max(0, Math.min(15, Math.round(w[n * inF + k]! / s) + 8)) : 8;
        const q1 = k + 1 < inF ? Math.max(0, Math.min(15, Math.round(w[n * inF + k + 1]! / s) + 8)) : 8;
        packed[(n * blocks + kb) * (B / 2) + i / 2] = q0 | (q1 << 4);
      }
    }
  }
  return { packed, scales };
}
