// One Transformer3DModel slot (LAVIE.md §2.7, §3.3, §4.2, §5.3): per-frame GroupNorm, proj_in,
// one BasicTransformerBlock, proj_out, residual. The UNet copies differ only in the block's details,
// so one builder takes a `Transformer3DVariant` (LAVIE.md §5.6). Works on frame-batched maps
// [(B·F), C, H, W].
import type { Value } from '../onnx/graph.ts';
import * as op from '../onnx/ops.ts';
import { attentionCore, conv2d, crossAttention, feedForwardGeglu, groupNorm, layerNorm, linear, mergeHeads, splitHeads, type NetCtx } from './nn.ts';
import { temporalResnet } from './resnet3d.ts';
import type { TemporalWindows } from '../../engine/freenoise.ts';
import { temporalAttention, windowedTemporalStep } from './temporal-attention.ts';

/** What distinguishes the base, interpolation and VSR copies of the transformer block. */
export interface Transformer3DVariant {
  /** attn1: full per-frame self-attention, or LaVie-interpolation's sparse-causal one (§2.10). */
  spatial: 'self' | 'sparse-causal';
  /** base/VSR: attn1 → attn2 → temporal → FF; interpolation: attn1 → attn2 → FF → temporal (§4.2). */
  order: 'temporal-then-ff' | 'ff-then-temporal';
  /** Temporal attention: key names and position information (§2.9). */
  temporal: { attn: string; norm: string; rope: boolean; relPosBias: boolean };
  /** VSR: proj_in/proj_out are Linear on tokens (else 1×1 convs on maps). */
  linearProjection?: boolean;
  /** VSR: a temporal ResnetBlock3DCNN (k = 3) runs first and the slot's residual is taken after it (§5.3). */
  temporalResnet?: boolean;
}

export const BASE_TRANSFORMER: Transformer3DVariant = {
  spatial: 'self', order: 'temporal-then-ff', temporal: { attn: 'attn_temp', norm: 'norm_temp', rope: true, relPosBias: true },
};
export const INTERP_TRANSFORMER: Transformer3DVariant = {
  spatial: 'sparse-causal', order: 'ff-then-temporal', temporal: { attn: 'attn_temp', norm: 'norm_temp', rope: false, relPosBias: false },
};

export const VSR_TRANSFORMER: Transformer3DVariant = {
  spatial: 'self', order: 'temporal-then-ff', temporal: { attn: 'attn_temporal', norm: 'norm_temporal', rope: true, relPosBias: true },
  linearProjection: true, temporalResnet: true,
};

export interface Transformer3DOpts {
  heads: number;
  frames: number;
  groups: number;
  textDim: number;
  variant: Transformer3DVariant;
  /** VSR levels with only_cross_attention: attn1 attends to the text too, not to the frame (§5.3). */
  onlyCross?: boolean;
  /** FreeNoise: temporal attention over sliding windows when there are more frames than one window. */
  windows?: TemporalWindows;
}

/** Text [B, L, D] repeated per frame → [(B·F), L, D] (row b·F + f, as the reference repeats it). */
export function textPerFrame(ctx: NetCtx, text: Value, frames: number): Value {
  const g = ctx.g;
  const [b, l, d] = text.shape as [number, number, number];
  const x = g.op('Expand', [op.reshape(g, text, [b, 1, l, d]), g.constI64([b, frames, l, d])], {}, { shape: [b, frames, l, d], dtype: 'float32' });
  return op.reshape(g, x, [b * frames, l, d]);
}

/**
 * Sparse-causal self-attention (LAVIE.md §2.10): frame f's queries attend to the keys/values of
 * frame 0 followed by those of frame max(f−1, 0). x: tokens [(B·F), HW, C].
 */
function sparseCausalAttention(ctx: NetCtx, x: Value, prefix: string, heads: number, frames: number): Value {
  const g = ctx.g;
  const [bf, hw, c] = x.shape as [number, number, number];
  const b = bf / frames;
  const q = op.mulScalar(g, linear(ctx, x, `${prefix}.to_q`, c, c, false), (c / heads) ** -0.5);
  // [B, F, HW, C] → [B, F, 2·HW, C]: first frame (broadcast over F) ‖ previous frame (frame 0 for f = 0).
  const gather = (t: Value) => {
    const v = op.reshape(g, t, [b, frames, hw, c]);
    const first = op.slice(g, v, 1, 0, 1);
    const firstAll = g.op('Expand', [first, g.constI64([b, frames, hw, c])], {}, { shape: [b, frames, hw, c], dtype: 'float32' });
    const prev = frames > 1 ? op.concat(g, [first, op.slice(g, v, 1, 0, frames - 1)], 1) : first;
    return op.reshape(g, op.concat(g, [firstAll, prev], 2), [bf, 2 * hw, c]);
  };
  const k = gather(linear(ctx, x, `${prefix}.to_k`, c, c, false));
  const v = gather(linear(ctx, x, `${prefix}.to_v`, c, c, false));
  const o = attentionCore(ctx, splitHeads(g, q, heads), splitHeads(g, k, heads), splitHeads(g, v, heads));
  return linear(ctx, mergeHeads(g, o), `${prefix}.to_out.0`, c, c, true);
}

export function transformer3d(ctx: NetCtx, x: Value, textPF: Value, prefix: string, o: Transformer3DOpts): Value {
  const g = ctx.g;
  const v = o.variant;
  const [bf, c, h, w] = x.shape as [number, number, number, number];
  const b = bf / o.frames;
  const hw = h * w;
  const P = (k: string) => (prefix ? `${prefix}.${k}` : k);
  const residual = v.temporalResnet ? temporalResnet(ctx, x, null, P('resblock_temporal'), { frames: o.frames, k: 3 }) : x;
  const normed = groupNorm(ctx, residual, P('norm'), o.groups, 1e-6);
  const tokens = (m: Value) => op.transpose(g, op.reshape(g, m, [bf, c, hw]), [0, 2, 1]); // [(B·F), HW, C]
  let t = v.linearProjection ? linear(ctx, tokens(normed), P('proj_in'), c, c) : tokens(conv2d(ctx, normed, P('proj_in'), { cin: c, cout: c, k: 1 }));
  const blk = P('transformer_blocks.0');
  const n1 = layerNorm(ctx, t, `${blk}.norm1`, 1e-5);
  const attn1 = o.onlyCross ? crossAttention(ctx, n1, textPF, `${blk}.attn1`, o.heads)
    : v.spatial === 'sparse-causal' ? sparseCausalAttention(ctx, n1, `${blk}.attn1`, o.heads, o.frames)
    : crossAttention(ctx, n1, null, `${blk}.attn1`, o.heads);
  t = op.add(g, t, attn1);
  t = op.add(g, t, crossAttention(ctx, layerNorm(ctx, t, `${blk}.norm2`, 1e-5), textPF, `${blk}.attn2`, o.heads));
  const temporal = (u: Value) => {
    // (b f) d c → (b d) f c, attend over frames, and back.
    let tt = op.reshape(g, op.transpose(g, op.reshape(g, u, [b, o.frames, hw, c]), [0, 2, 1, 3]), [b * hw, o.frames, c]);
    const opts = { heads: o.heads, frames: o.frames, rope: v.temporal.rope, relPosBias: v.temporal.relPosBias };
    const norm = `${blk}.${v.temporal.norm}`;
    const attn = `${blk}.${v.temporal.attn}`;
    // One window spanning every frame is the plain step (FreeNoise's (y·w)/w aside), so that graph is unchanged.
    tt = o.windows && o.frames !== o.windows.size ? windowedTemporalStep(ctx, tt, norm, attn, opts, o.windows)
      : op.add(g, tt, temporalAttention(ctx, layerNorm(ctx, tt, norm, 1e-5), attn, opts));
    return op.reshape(g, op.transpose(g, op.reshape(g, tt, [b, hw, o.frames, c]), [0, 2, 1, 3]), [bf, hw, c]);
  };
  const ff = (u: Value) => op.add(g, u, feedForwardGeglu(ctx, layerNorm(ctx, u, `${blk}.norm3`, 1e-5), `${blk}.ff`));
  t = v.order === 'temporal-then-ff' ? ff(temporal(t)) : temporal(ff(t));
  const maps = (u: Value) => op.reshape(g, op.transpose(g, u, [0, 2, 1]), [bf, c, h, w]);
  const out = v.linearProjection ? maps(linear(ctx, t, P('proj_out'), c, c)) : conv2d(ctx, maps(t), P('proj_out'), { cin: c, cout: c, k: 1 });
  return op.add(g, out, residual);
}

/** Video NCFHW [B,C,F,H,W] ⇄ frame-batched [(B·F),C,H,W]. */
export function videoToFrames(ctx: NetCtx, v: Value): Value {
  const [b, c, f, h, w] = v.shape as number[];
  return op.reshape(ctx.g, op.transpose(ctx.g, v, [0, 2, 1, 3, 4]), [b! * f!, c!, h!, w!]);
}
export function framesToVideo(ctx: NetCtx, x: Value, frames: number): Value {
  const [bf, c, h, w] = x.shape as number[];
  return op.transpose(ctx.g, op.reshape(ctx.g, x, [bf! / frames, frames, c!, h!, w!]), [0, 2, 1, 3, 4]);
}

export interface Transformer3DConfig {
  num_attention_heads: number;
  attention_head_dim: number;
  in_channels: number;
  norm_num_groups: number;
  cross_attention_dim: number;
  [k: string]: unknown;
}

/** A standalone slot (fixtures base_/vsr_transformer3d): inputs `hidden_states` NCFHW, `encoder_hidden_states`; output `out`. */
export function buildTransformer3D(ctx: NetCtx, cfg: Transformer3DConfig, s: { batch: number; frames: number; height: number; width: number; textLength: number }, variant: Transformer3DVariant, windows?: TemporalWindows): void {
  const g = ctx.g;
  const hs = g.input('hidden_states', 'float32', [s.batch, cfg.in_channels, s.frames, s.height, s.width]);
  const text = g.input('encoder_hidden_states', 'float32', [s.batch, s.textLength, cfg.cross_attention_dim]);
  const out = transformer3d(ctx, videoToFrames(ctx, hs), textPerFrame(ctx, text, s.frames), '', { heads: cfg.num_attention_heads, frames: s.frames, groups: cfg.norm_num_groups, textDim: cfg.cross_attention_dim, variant, onlyCross: cfg.only_cross_attention === true, ...(windows ? { windows } : {}) });
  g.output(framesToVideo(ctx, out, s.frames), 'out');
}

export function buildBaseTransformer3D(ctx: NetCtx, cfg: Transformer3DConfig, s: { batch: number; frames: number; height: number; width: number; textLength: number }, windows?: TemporalWindows): void {
  buildTransformer3D(ctx, cfg, s, BASE_TRANSFORMER, windows);
}
