// Temporal self-attention of the base and VSR UNets (LAVIE.md §2.9): over frames, per pixel,
// 8 heads; q scaled by d^-0.5 BEFORE rotary embedding; RoPE on the first 32 channels of each head
// (interleaved pairs, positions 0..F−1); a learned T5-style relative position bias per head.
// RoPE tables and the bias are constants for a given frame count, computed here at build time.
import { CheckpointError } from '../errors.ts';
import type { Value } from '../onnx/graph.ts';
import * as op from '../onnx/ops.ts';
import { windowCoverage, windowStarts, windowWeights, type TemporalWindows } from '../../engine/freenoise.ts';
import { attentionCore, layerNorm, linear, mergeHeads, splitHeads, type NetCtx } from './nn.ts';

const ROPE_DIM = 32;
const fr = Math.fround;

/** Bucket of relative position n = i − j (query i, key j): 32 buckets, max distance 32, fp32 like torch. */
export function relPosBucket(n: number, numBuckets = 32, maxDistance = 32): number {
  const half = numBuckets / 2;
  let ret = n < 0 ? half : 0;
  const a = Math.abs(n);
  const maxExact = half / 2;
  if (a < maxExact) return ret + a;
  const large = maxExact + Math.trunc(fr(fr(fr(Math.log(fr(a / maxExact))) / fr(Math.log(maxDistance / maxExact))) * (half - maxExact)));
  ret += Math.min(large, half - 1);
  return ret;
}

/** Bias[h, i, j] = table[bucket(i − j), h] for a learned table [32, heads]. */
export function relPosBias(table: Float32Array, heads: number, frames: number): Float32Array {
  const out = new Float32Array(heads * frames * frames);
  for (let h = 0; h < heads; h++) for (let i = 0; i < frames; i++) for (let j = 0; j < frames; j++) out[(h * frames + i) * frames + j] = table[relPosBucket(i - j) * heads + h]!;
  return out;
}

/** The inverse frequencies rotary_embedding_torch stores (and our checkpoints must hold). */
export function ropeInvFreqs(): Float32Array {
  return Float32Array.from({ length: ROPE_DIM / 2 }, (_, i) => 1 / 10000 ** ((2 * i) / ROPE_DIM));
}

export function checkRopeFreqs(ctx: NetCtx, key: string): void {
  const t = ctx.p.get(key, [ROPE_DIM / 2]);
  const got = t.read();
  const want = ropeInvFreqs();
  // A checkpoint saved in half precision (e.g. the fp16 LaVie-nano bundle) holds them rounded to 11 bits.
  const rel = t.dtype === 'float16' || t.dtype === 'bfloat16' ? (t.dtype === 'float16' ? 2 ** -11 : 2 ** -8) : 1e-6;
  for (let i = 0; i < want.length; i++) {
    if (Math.abs(got[i]! - want[i]!) > rel * Math.max(1, Math.abs(want[i]!))) {
      throw new CheckpointError('wrong-value', `${ctx.p.file}: "${key}" is not RoPE's 10000^(-2i/32) (entry ${i}: ${got[i]})`, { file: ctx.p.file, key });
    }
  }
}

/** Rotate the first 32 channels of each head of x [N, h, F, d] by frame position. */
function rope(ctx: NetCtx, x: Value, frames: number): Value {
  const g = ctx.g;
  const [n, h, f, d] = x.shape as [number, number, number, number];
  const inv = ropeInvFreqs();
  const cos = new Float32Array(frames * ROPE_DIM);
  const sin = new Float32Array(frames * ROPE_DIM);
  for (let p = 0; p < frames; p++) for (let i = 0; i < ROPE_DIM / 2; i++) {
    const a = p * inv[i]!;
    cos[p * ROPE_DIM + 2 * i] = cos[p * ROPE_DIM + 2 * i + 1] = Math.cos(a);
    sin[p * ROPE_DIM + 2 * i] = -Math.sin(a); // out[2i]   = x[2i]·cos − x[2i+1]·sin
    sin[p * ROPE_DIM + 2 * i + 1] = Math.sin(a); // out[2i+1] = x[2i+1]·cos + x[2i]·sin
  }
  const head = op.slice(g, x, 3, 0, ROPE_DIM);
  const pairs = op.reshape(g, head, [n, h, f, ROPE_DIM / 2, 2]);
  const [even, odd] = op.split(g, pairs, 4, [1, 1]) as [Value, Value];
  const swapped = op.reshape(g, op.concat(g, [odd, even], 4), [n, h, f, ROPE_DIM]);
  const rotated = op.add(g, op.mul(g, head, g.constF32(cos, [frames, ROPE_DIM], 'rope_cos')), op.mul(g, swapped, g.constF32(sin, [frames, ROPE_DIM], 'rope_sin')));
  return d > ROPE_DIM ? op.concat(g, [rotated, op.slice(g, x, 3, ROPE_DIM, d)], 3) : rotated;
}

export interface TemporalAttentionOpts { heads: number; frames: number; rope: boolean; relPosBias: boolean }

/** The position-bias constant [1, heads, F, F] for a block (window-relative when F is a window). */
function positionBias(ctx: NetCtx, prefix: string, o: TemporalAttentionOpts): Value | undefined {
  if (!o.relPosBias) return undefined;
  const key = `${prefix}.time_rel_pos_bias.relative_attention_bias.weight`;
  const table = ctx.p.get(key, [32, o.heads]).read();
  return ctx.g.constF32(relPosBias(table, o.heads, o.frames), [1, o.heads, o.frames, o.frames], `${prefix}.rel_pos_bias`);
}

/** x: [N, F, C] (N = batch·pixels). Returns the attention branch (before the residual add). */
export function temporalAttention(ctx: NetCtx, x: Value, prefix: string, o: TemporalAttentionOpts): Value {
  const g = ctx.g;
  const c = x.shape[2]!;
  const d = c / o.heads;
  let q = op.mulScalar(g, splitHeads(g, linear(ctx, x, `${prefix}.to_q`, c, c, false), o.heads), d ** -0.5);
  let k = splitHeads(g, linear(ctx, x, `${prefix}.to_k`, c, c, false), o.heads);
  const v = splitHeads(g, linear(ctx, x, `${prefix}.to_v`, c, c, false), o.heads);
  if (o.rope) {
    checkRopeFreqs(ctx, `${prefix}.rotary_emb.freqs`);
    if (d < ROPE_DIM) throw new Error(`${prefix}: head dim ${d} < ${ROPE_DIM} cannot take RoPE(32)`);
    q = rope(ctx, q, o.frames);
    k = rope(ctx, k, o.frames);
  }
  const bias = positionBias(ctx, prefix, o);
  return linear(ctx, mergeHeads(g, attentionCore(ctx, q, k, v, bias)), `${prefix}.to_out.0`, c, c, true);
}

// ---- FreeNoise (arXiv 2310.15169; FreeNoise-LaVie's BasicTransformerBlock, local_window) ----------
// The window rule (size, stride, weights) is src/engine/freenoise.ts, shared with the noise side.

/**
 * FreeNoise's windowed temporal step on h [N, L, C], replacing `h + attn(norm(h))`:
 * norm over all L frames; each window i computes y_i = attn(norm(h)[:, window]) + h[:, window]
 * with window-relative positions (RoPE 0..size−1, a size×size bias); every frame is the
 * weighted mean of its windows' y (weights `windowWeights`, accumulated in window order as the
 * official code does). Frames in no window come out as 0, residual included — the official
 * code's behaviour, kept for bit-level parity; L = 16 + 4k leaves none.
 * The output is assembled from frame segments covered by the same windows, so no window output
 * is ever padded to L frames (memory stays at one window per live tensor).
 */
export function windowedTemporalStep(ctx: NetCtx, h: Value, normKey: string, prefix: string, o: TemporalAttentionOpts, w: TemporalWindows): Value {
  const g = ctx.g;
  const [n, frames, c] = h.shape as [number, number, number];
  if (frames < w.size) throw new Error(`${prefix}: ${frames} frames is fewer than one ${w.size}-frame temporal window`);
  const normed = layerNorm(ctx, h, normKey, 1e-5);
  const starts = windowStarts(frames, w);
  const win = { ...o, frames: w.size };
  const ys = starts.map((s) => op.add(g, temporalAttention(ctx, op.slice(g, normed, 1, s, s + w.size), prefix, win), op.slice(g, h, 1, s, s + w.size)));
  const wt = windowWeights(w.size);
  const count = windowCoverage(frames, w);
  const cover = (f: number) => starts.map((s, i) => (f >= s && f < s + w.size ? i : -1)).filter((i) => i >= 0).join(',');
  const parts: Value[] = [];
  for (let a = 0; a < frames;) {
    let b = a + 1;
    while (b < frames && cover(b) === cover(a)) b++;
    const idx = starts.flatMap((s, i) => (a >= s && b <= s + w.size ? [i] : []));
    if (!idx.length) {
      parts.push(g.op('Expand', [g.constF32([0], [1, 1, 1]), g.constI64([n, b - a, c])], {}, { shape: [n, b - a, c], dtype: 'float32' }));
    } else {
      let value: Value | undefined;
      for (const i of idx) {
        const s = starts[i]!;
        const term = op.mul(g, op.slice(g, ys[i]!, 1, a - s, b - s), g.constF32(wt.slice(a - s, b - s), [1, b - a, 1], 'window_weight'));
        value = value ? op.add(g, value, term) : term;
      }
      parts.push(op.div(g, value!, g.constF32(count.slice(a, b), [1, b - a, 1], 'window_count')));
    }
    a = b;
  }
  return parts.length === 1 ? parts[0]! : op.concat(g, parts, 1);
}
