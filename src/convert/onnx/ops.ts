// Typed ONNX op helpers with static shape inference. Only ops that onnxruntime-web's WebGPU
// backend runs (see ../shared/docs/WEB-PLATFORM.md) belong here; every network is built from them.
import type { DType, Shape } from '../tensor.ts';
import { f, ONNX_DTYPE, type GraphBuilder, type Value } from './graph.ts';

export function broadcastShapes(a: Shape, b: Shape): number[] {
  const n = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const da = a[a.length - n + i] ?? 1;
    const db = b[b.length - n + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) throw new Error(`cannot broadcast [${a}] with [${b}]`);
    out.push(da === 1 ? db : da);
  }
  return out;
}

function binary(g: GraphBuilder, op: string, a: Value, b: Value): Value {
  if (a.dtype !== b.dtype) throw new Error(`${op}: dtype ${a.dtype} vs ${b.dtype}`);
  return g.op(op, [a, b], {}, { shape: broadcastShapes(a.shape, b.shape), dtype: a.dtype });
}
export const add = (g: GraphBuilder, a: Value, b: Value): Value => binary(g, 'Add', a, b);
export const sub = (g: GraphBuilder, a: Value, b: Value): Value => binary(g, 'Sub', a, b);
export const mul = (g: GraphBuilder, a: Value, b: Value): Value => binary(g, 'Mul', a, b);
export const div = (g: GraphBuilder, a: Value, b: Value): Value => binary(g, 'Div', a, b);
export const pow = (g: GraphBuilder, a: Value, b: Value): Value => binary(g, 'Pow', a, b);

/** Multiply / add a scalar constant. */
export const mulScalar = (g: GraphBuilder, a: Value, s: number): Value => mul(g, a, g.constF32([s], []));
export const addScalar = (g: GraphBuilder, a: Value, s: number): Value => add(g, a, g.constF32([s], []));

function unary(g: GraphBuilder, op: string, x: Value, attrs = {}): Value {
  return g.op(op, [x], attrs, { shape: x.shape, dtype: x.dtype });
}
export const sigmoid = (g: GraphBuilder, x: Value): Value => unary(g, 'Sigmoid', x);
export const erf = (g: GraphBuilder, x: Value): Value => unary(g, 'Erf', x);
export const sqrt = (g: GraphBuilder, x: Value): Value => unary(g, 'Sqrt', x);
export const exp = (g: GraphBuilder, x: Value): Value => unary(g, 'Exp', x);
export const sin = (g: GraphBuilder, x: Value): Value => unary(g, 'Sin', x);
export const cos = (g: GraphBuilder, x: Value): Value => unary(g, 'Cos', x);
export const neg = (g: GraphBuilder, x: Value): Value => unary(g, 'Neg', x);
export const identity = (g: GraphBuilder, x: Value): Value => unary(g, 'Identity', x);
export const softmax = (g: GraphBuilder, x: Value, axis = -1): Value => unary(g, 'Softmax', x, { axis });

export function cast(g: GraphBuilder, x: Value, to: DType): Value {
  return g.op('Cast', [x], { to: ONNX_DTYPE[to] }, { shape: x.shape, dtype: to });
}

export function clip(g: GraphBuilder, x: Value, lo: number, hi: number): Value {
  return g.op('Clip', [x, g.constF32([lo], []), g.constF32([hi], [])], {}, { shape: x.shape, dtype: x.dtype });
}

export function matmul(g: GraphBuilder, a: Value, b: Value): Value {
  if (a.shape.length < 2 || b.shape.length < 2) throw new Error('matmul: rank < 2 not used');
  const [m, k] = a.shape.slice(-2) as [number, number];
  const [k2, n] = b.shape.slice(-2) as [number, number];
  if (k !== k2) throw new Error(`matmul: [${a.shape}] x [${b.shape}]`);
  const batch = broadcastShapes(a.shape.slice(0, -2), b.shape.slice(0, -2));
  return g.op('MatMul', [a, b], {}, { shape: [...batch, m, n], dtype: a.dtype });
}

export function resolveShape(from: Shape, to: readonly number[]): number[] {
  const total = from.reduce((s, d) => s * d, 1);
  const out = to.map((d, i) => (d === 0 ? from[i]! : d));
  const known = out.filter((d) => d !== -1).reduce((s, d) => s * d, 1);
  const neg = out.indexOf(-1);
  if (neg >= 0) out[neg] = total / known;
  if (out.reduce((s, d) => s * d, 1) !== total || !out.every(Number.isInteger)) throw new Error(`reshape [${from}] → [${to}]`);
  return out;
}

export function reshape(g: GraphBuilder, x: Value, shape: readonly number[]): Value {
  const out = resolveShape(x.shape, shape);
  if (out.length === x.shape.length && out.every((d, i) => d === x.shape[i])) return x;
  return g.op('Reshape', [x, g.constI64(out)], {}, { shape: out, dtype: x.dtype });
}

export function transpose(g: GraphBuilder, x: Value, perm: readonly number[]): Value {
  if (perm.every((p, i) => p === i)) return x;
  return g.op('Transpose', [x], { perm }, { shape: perm.map((p) => x.shape[p]!), dtype: x.dtype });
}

export function concat(g: GraphBuilder, xs: Value[], axis: number): Value {
  if (xs.length === 1) return xs[0]!;
  const r = xs[0]!.shape.length;
  const ax = axis < 0 ? axis + r : axis;
  const shape = [...xs[0]!.shape];
  shape[ax] = xs.reduce((s, x) => s + x.shape[ax]!, 0);
  return g.op('Concat', xs, { axis: ax }, { shape, dtype: xs[0]!.dtype });
}

export function split(g: GraphBuilder, x: Value, axis: number, sizes: readonly number[]): Value[] {
  const ax = axis < 0 ? axis + x.shape.length : axis;
  if (sizes.reduce((s, d) => s + d, 0) !== x.shape[ax]) throw new Error(`split [${x.shape}] axis ${ax} into ${sizes}`);
  return g.opMulti('Split', [x, g.constI64(sizes)], { axis: ax }, sizes.map((s) => {
    const shape = [...x.shape];
    shape[ax] = s;
    return { shape, dtype: x.dtype };
  }));
}

/** Static slice along one axis, [start, end). */
export function slice(g: GraphBuilder, x: Value, axis: number, start: number, end: number): Value {
  const ax = axis < 0 ? axis + x.shape.length : axis;
  if (start === 0 && end === x.shape[ax]) return x;
  const shape = [...x.shape];
  shape[ax] = end - start;
  return g.op('Slice', [x, g.constI64([start]), g.constI64([end]), g.constI64([ax])], {}, { shape, dtype: x.dtype });
}

export function gather(g: GraphBuilder, x: Value, indices: Value, axis = 0): Value {
  const ax = axis < 0 ? axis + x.shape.length : axis;
  const shape = [...x.shape.slice(0, ax), ...indices.shape, ...x.shape.slice(ax + 1)];
  return g.op('Gather', [x, indices], { axis: ax }, { shape, dtype: x.dtype });
}

export function reduceMean(g: GraphBuilder, x: Value, axes: readonly number[], keepdims = true): Value {
  const r = x.shape.length;
  const ax = axes.map((a) => (a < 0 ? a + r : a));
  const shape = keepdims ? x.shape.map((d, i) => (ax.includes(i) ? 1 : d)) : x.shape.filter((_, i) => !ax.includes(i));
  return g.op('ReduceMean', [x], { axes: ax, keepdims: keepdims ? 1 : 0 }, { shape, dtype: x.dtype });
}

export function layerNorm(g: GraphBuilder, x: Value, scale: Value, bias: Value, eps: number): Value {
  return g.op('LayerNormalization', [x, scale, bias], { axis: -1, epsilon: f(eps) }, { shape: x.shape, dtype: x.dtype });
}

export interface ConvOpts { strides?: [number, number]; pads?: [number, number, number, number]; group?: number }

/** 2-D convolution, NCHW. Kernel [Cout, Cin/group, kh, kw]. */
export function conv(g: GraphBuilder, x: Value, w: Value, b: Value | null, opts: ConvOpts = {}): Value {
  const [n, , h, wd] = x.shape as [number, number, number, number];
  const [cout, , kh, kw] = w.shape as [number, number, number, number];
  const [sh, sw] = opts.strides ?? [1, 1];
  const [pt, pl, pb, pr] = opts.pads ?? [0, 0, 0, 0];
  const oh = Math.floor((h + pt + pb - kh) / sh) + 1;
  const ow = Math.floor((wd + pl + pr - kw) / sw) + 1;
  const attrs: Record<string, readonly number[] | number> = { kernel_shape: [kh, kw], strides: [sh, sw], pads: [pt, pl, pb, pr] };
  if (opts.group && opts.group !== 1) attrs.group = opts.group;
  return g.op('Conv', b ? [x, w, b] : [x, w], attrs, { shape: [n, cout, oh, ow], dtype: x.dtype });
}

/** Nearest-neighbour ×2 upsampling of the last two axes of a 4-D tensor. */
export function upsampleNearest2x(g: GraphBuilder, x: Value): Value {
  const [n, c, h, w] = x.shape as [number, number, number, number];
  return g.op('Resize', [x, null, g.constF32([1, 1, 2, 2], [4])], { mode: 'nearest', coordinate_transformation_mode: 'asymmetric', nearest_mode: 'floor' }, { shape: [n, c, 2 * h, 2 * w], dtype: x.dtype });
}

export function unsqueeze(g: GraphBuilder, x: Value, axis: number): Value {
  const shape = [...x.shape];
  shape.splice(axis < 0 ? axis + x.shape.length + 1 : axis, 0, 1);
  return reshape(g, x, shape);
}
