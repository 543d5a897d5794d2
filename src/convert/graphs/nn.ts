// Layers shared by every network (UNets, VAEs, text encoders). Each reads its parameters through
// `Params` (so keys and shapes are checked) and stores weights through `weights.ts` (so one switch
// chooses fp32 / fp16 / int8 / int4 storage for the whole network).
//
// Layout convention inside the UNets: frame-batched NCHW `[(B·F), C, H, W]` (row b·F + f), which is
// what every 2-D op wants; ops that mix frames (5-D GroupNorm, temporal attention) say so.
import type { GraphBuilder, Value } from '../onnx/graph.ts';
import * as op from '../onnx/ops.ts';
import type { Params } from './params.ts';
import { convWeight, linearWeight, plainWeight, type WeightPrecision } from './weights.ts';

export interface NetCtx {
  g: GraphBuilder;
  p: Params;
  precision: WeightPrecision;
  /** Upper bound for any single intermediate tensor (bytes); attention and FF chunk to respect it. */
  maxTensorBytes: number;
}

/** Default per-tensor budget: half the 1 GiB buffer limit, leaving headroom for the allocator. */
export const DEFAULT_MAX_TENSOR_BYTES = 512 * 1024 * 1024;

export function silu(ctx: NetCtx, x: Value): Value {
  return op.mul(ctx.g, x, op.sigmoid(ctx.g, x));
}

/** Linear on the last axis: y = x Wᵀ + b, with W stored `[out, in]` as in PyTorch. */
export function linear(ctx: NetCtx, x: Value, prefix: string, inF: number, outF: number, bias = true): Value {
  const wRef = ctx.p.get(`${prefix}.weight`, [outF, inF]);
  let y = linearWeight(ctx, `${prefix}.weight`, wRef, x);
  if (bias) y = op.add(ctx.g, y, plainWeight(ctx, `${prefix}.bias`, ctx.p.get(`${prefix}.bias`, [outF])));
  return y;
}

export interface Conv2dSpec { cin: number; cout: number; k: number; stride?: number; pads?: [number, number, number, number]; bias?: boolean }

/** Conv2d NCHW with PyTorch weight `[Cout, Cin, k, k]`; default padding k/2 (same). */
export function conv2d(ctx: NetCtx, x: Value, prefix: string, s: Conv2dSpec): Value {
  const wRef = ctx.p.get(`${prefix}.weight`, [s.cout, s.cin, s.k, s.k]);
  const w = convWeight(ctx, `${prefix}.weight`, wRef);
  const b = s.bias === false ? null : plainWeight(ctx, `${prefix}.bias`, ctx.p.get(`${prefix}.bias`, [s.cout]));
  const p = Math.floor(s.k / 2);
  return op.conv(ctx.g, x, w, b, { strides: [s.stride ?? 1, s.stride ?? 1], pads: s.pads ?? [p, p, p, p] });
}

/**
 * GroupNorm on frame-batched `[(B·F), C, H, W]`. With `frames = F` the statistics of each
 * (sample, group) span all F frames — PyTorch GroupNorm applied to a 5-D video tensor (LAVIE.md §2.2).
 * With `frames = 1` it is the ordinary per-image GroupNorm. Written out with Reduce ops because ONNX
 * GroupNormalization partly falls back to the CPU on onnxruntime-web.
 */
export function groupNorm(ctx: NetCtx, x: Value, prefix: string, groups: number, eps: number, frames = 1): Value {
  const g = ctx.g;
  const [bf, c, h, w] = x.shape as [number, number, number, number];
  const b = bf / frames;
  // Statistics over up to F·(C/G)·H·W elements: float32 even in the fp16-compute variant.
  const y = g.keepFp32(() => {
    const xr = op.reshape(g, x, [b, frames, groups, (c / groups) * h * w]);
    const mean = groupMean(g, xr);
    const d = op.sub(g, xr, mean);
    const variance = groupMean(g, op.mul(g, d, d));
    const std = op.sqrt(g, op.addScalar(g, variance, eps));
    return op.reshape(g, op.div(g, d, std), [bf, c, h, w]);
  });
  const gamma = plainWeight(ctx, `${prefix}.weight`, ctx.p.get(`${prefix}.weight`, [c]), [1, c, 1, 1]);
  const beta = plainWeight(ctx, `${prefix}.bias`, ctx.p.get(`${prefix}.bias`, [c]), [1, c, 1, 1]);
  return op.add(g, op.mul(g, y, gamma), beta);
}

/**
 * Mean of `[B, F, G, L]` over axes 1 and 3 (keepdims → `[B, 1, G, 1]`) in two stages: first over
 * chunks of k contiguous elements of L, then over the F·L/k chunk means. A GroupNorm group holds up
 * to 1.6 M elements at LaVie's real sizes; one flat float32 ReduceMean over them drifts past the
 * parity tolerance (onnxruntime's CPU and WebGPU kernels both accumulate long runs serially), while
 * two reductions of ~√N elements each stay near float32 rounding. Equal chunk sizes keep the mean
 * of means exact.
 */
export function groupMean(g: GraphBuilder, x: Value): Value {
  const [b, f, gr, l] = x.shape as [number, number, number, number];
  const k = chunkLength(l, f);
  if (k <= 1 || k >= l) return op.reduceMean(g, x, [1, 3]);
  const chunks = op.reduceMean(g, op.reshape(g, x, [b, f, gr, l / k, k]), [4], false);
  return op.reduceMean(g, chunks, [1, 3]);
}

/** Below this many elements a flat reduction is already exact enough. */
export const FLAT_REDUCTION_MAX = 4096;

/** The divisor k of `l` that best balances the two stages (k and f·l/k both near √(f·l)). */
export function chunkLength(l: number, f: number): number {
  const n = f * l;
  if (n <= FLAT_REDUCTION_MAX) return 1;
  const target = Math.sqrt(n);
  let best = 1;
  for (let k = 1; k * k <= l; k++) {
    if (l % k !== 0) continue;
    for (const d of [k, l / k]) if (Math.abs(Math.log(d / target)) < Math.abs(Math.log(best / target))) best = d;
  }
  return best;
}

export function layerNorm(ctx: NetCtx, x: Value, prefix: string, eps: number): Value {
  const c = x.shape[x.shape.length - 1]!;
  return op.layerNorm(ctx.g, x, plainWeight(ctx, `${prefix}.weight`, ctx.p.get(`${prefix}.weight`, [c])), plainWeight(ctx, `${prefix}.bias`, ctx.p.get(`${prefix}.bias`, [c])), eps);
}

/** `[N, S, h·d]` → `[N, h, S, d]` (channel c = head·d + j, as diffusers' head_to_batch_dim). */
export function splitHeads(g: GraphBuilder, x: Value, heads: number): Value {
  const [n, s, c] = x.shape as [number, number, number];
  return op.transpose(g, op.reshape(g, x, [n, s, heads, c / heads]), [0, 2, 1, 3]);
}

/** `[N, h, S, d]` → `[N, S, h·d]`. */
export function mergeHeads(g: GraphBuilder, x: Value): Value {
  const [n, h, s, d] = x.shape as [number, number, number, number];
  return op.reshape(g, op.transpose(g, x, [0, 2, 1, 3]), [n, s, h * d]);
}

/**
 * softmax(q kᵀ + bias) v on per-head tensors `[N, h, Sq, d]`, `[N, h, Sk, d]`. The caller has already
 * applied any scale to q. Plain MatMul → Softmax → MatMul: correct on every ORT-web backend (the
 * fused MultiHeadAttention returned wrong values on SwiftShader, WEB-PLATFORM.md). To keep the score
 * tensor under `ctx.maxTensorBytes`, N is processed in chunks.
 */
export function attentionCore(ctx: NetCtx, q: Value, k: Value, v: Value, scoreBias?: Value): Value {
  const g = ctx.g;
  const [n, h, sq] = q.shape as [number, number, number, number];
  const sk = k.shape[2]!;
  const perItem = h * sq * sk * 4;
  const chunk = Math.max(1, Math.min(n, Math.floor(ctx.maxTensorBytes / perItem)));
  const parts: Value[] = [];
  for (let s = 0; s < n; s += chunk) {
    const e = Math.min(n, s + chunk);
    const qc = op.slice(g, q, 0, s, e);
    const kc = op.slice(g, k, 0, s, e);
    const vc = op.slice(g, v, 0, s, e);
    let scores = op.matmul(g, qc, op.transpose(g, kc, [0, 1, 3, 2]));
    if (scoreBias) scores = op.add(g, scores, scoreBias);
    parts.push(op.matmul(g, op.softmax(g, scores, -1), vc));
  }
  return op.concat(g, parts, 0);
}

/**
 * diffusers CrossAttention (LAVIE.md §2.6): to_q/to_k/to_v without bias, to_out.0 with bias,
 * scale d^-0.5. x `[N, Sq, C]`, context `[N, Sk, Cctx]` (or x itself).
 */
export function crossAttention(ctx: NetCtx, x: Value, context: Value | null, prefix: string, heads: number, qkvBias = false): Value {
  const g = ctx.g;
  const c = x.shape[2]!;
  const ctxIn = context ?? x;
  const cc = ctxIn.shape[2]!;
  const d = c / heads;
  const q = op.mulScalar(g, linear(ctx, x, `${prefix}.to_q`, c, c, qkvBias), d ** -0.5);
  const k = linear(ctx, ctxIn, `${prefix}.to_k`, cc, c, qkvBias);
  const v = linear(ctx, ctxIn, `${prefix}.to_v`, cc, c, qkvBias);
  const o = attentionCore(ctx, splitHeads(g, q, heads), splitHeads(g, k, heads), splitHeads(g, v, heads));
  return linear(ctx, mergeHeads(g, o), `${prefix}.to_out.0`, c, c, true);
}

/** GELU with erf (exact), as torch.nn.functional.gelu. */
export function geluErf(ctx: NetCtx, x: Value): Value {
  const g = ctx.g;
  const e = op.erf(g, op.mulScalar(g, x, Math.SQRT1_2));
  return op.mul(g, op.mulScalar(g, x, 0.5), op.addScalar(g, e, 1));
}

/** diffusers FeedForward with GEGLU (LAVIE.md §2.8): proj C→8C, hidden·gelu(gate), C←4C. Chunked over tokens if large. */
export function feedForwardGeglu(ctx: NetCtx, x: Value, prefix: string): Value {
  const g = ctx.g;
  const [n, s, c] = x.shape as [number, number, number];
  const inner = 4 * c;
  const perRow = s * 2 * inner * 4;
  const chunk = Math.max(1, Math.min(n, Math.floor(ctx.maxTensorBytes / perRow)));
  const parts: Value[] = [];
  for (let a = 0; a < n; a += chunk) {
    const xc = op.slice(g, x, 0, a, Math.min(n, a + chunk));
    const proj = linear(ctx, xc, `${prefix}.net.0.proj`, c, 2 * inner);
    const [hidden, gate] = op.split(g, proj, -1, [inner, inner]) as [Value, Value];
    parts.push(linear(ctx, op.mul(g, hidden, geluErf(ctx, gate)), `${prefix}.net.2`, inner, c));
  }
  return op.concat(g, parts, 0);
}
