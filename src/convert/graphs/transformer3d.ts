// One Transformer3DModel slot of the base UNet (LAVIE.md §2.7, §3.3): per-frame GroupNorm,
// proj_in 1×1, BasicTransformerBlock (spatial self-attn → text cross-attn → temporal attn → FF),
// proj_out 1×1, residual. Works on frame-batched maps [(B·F), C, H, W].
import type { Value } from '../onnx/graph.ts';
import * as op from '../onnx/ops.ts';
import { conv2d, crossAttention, feedForwardGeglu, groupNorm, layerNorm, type NetCtx } from './nn.ts';
import { temporalAttention } from './temporal-attention.ts';

export interface Transformer3DOpts {
  heads: number;
  frames: number;
  groups: number;
  textDim: number;
}

/** Text [B, L, D] repeated per frame → [(B·F), L, D] (row b·F + f, as the reference repeats it). */
export function textPerFrame(ctx: NetCtx, text: Value, frames: number): Value {
  const g = ctx.g;
  const [b, l, d] = text.shape as [number, number, number];
  const x = g.op('Expand', [op.reshape(g, text, [b, 1, l, d]), g.constI64([b, frames, l, d])], {}, { shape: [b, frames, l, d], dtype: 'float32' });
  return op.reshape(g, x, [b * frames, l, d]);
}

export function transformer3d(ctx: NetCtx, x: Value, textPF: Value, prefix: string, o: Transformer3DOpts): Value {
  const g = ctx.g;
  const [bf, c, h, w] = x.shape as [number, number, number, number];
  const b = bf / o.frames;
  const hw = h * w;
  const P = (k: string) => (prefix ? `${prefix}.${k}` : k);
  let t = conv2d(ctx, groupNorm(ctx, x, P('norm'), o.groups, 1e-6), P('proj_in'), { cin: c, cout: c, k: 1 });
  t = op.transpose(g, op.reshape(g, t, [bf, c, hw]), [0, 2, 1]); // tokens [(B·F), HW, C]
  const blk = P('transformer_blocks.0');
  t = op.add(g, t, crossAttention(ctx, layerNorm(ctx, t, `${blk}.norm1`, 1e-5), null, `${blk}.attn1`, o.heads));
  t = op.add(g, t, crossAttention(ctx, layerNorm(ctx, t, `${blk}.norm2`, 1e-5), textPF, `${blk}.attn2`, o.heads));
  // Temporal: (b f) d c → (b d) f c
  let tt = op.reshape(g, op.transpose(g, op.reshape(g, t, [b, o.frames, hw, c]), [0, 2, 1, 3]), [b * hw, o.frames, c]);
  tt = op.add(g, tt, temporalAttention(ctx, layerNorm(ctx, tt, `${blk}.norm_temp`, 1e-5), `${blk}.attn_temp`, { heads: o.heads, frames: o.frames, rope: true, relPosBias: true }));
  t = op.reshape(g, op.transpose(g, op.reshape(g, tt, [b, hw, o.frames, c]), [0, 2, 1, 3]), [bf, hw, c]);
  t = op.add(g, t, feedForwardGeglu(ctx, layerNorm(ctx, t, `${blk}.norm3`, 1e-5), `${blk}.ff`));
  t = op.reshape(g, op.transpose(g, t, [0, 2, 1]), [bf, c, h, w]);
  return op.add(g, conv2d(ctx, t, P('proj_out'), { cin: c, cout: c, k: 1 }), x);
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

/** A standalone slot (fixture base_transformer3d): inputs `hidden_states` NCFHW, `encoder_hidden_states`; output `out`. */
export function buildBaseTransformer3D(ctx: NetCtx, cfg: Transformer3DConfig, s: { batch: number; frames: number; height: number; width: number; textLength: number }): void {
  const g = ctx.g;
  const hs = g.input('hidden_states', 'float32', [s.batch, cfg.in_channels, s.frames, s.height, s.width]);
  const text = g.input('encoder_hidden_states', 'float32', [s.batch, s.textLength, cfg.cross_attention_dim]);
  const out = transformer3d(ctx, videoToFrames(ctx, hs), textPerFrame(ctx, text, s.frames), '', { heads: cfg.num_attention_heads, frames: s.frames, groups: cfg.norm_num_groups, textDim: cfg.cross_attention_dim });
  g.output(framesToVideo(ctx, out, s.frames), 'out');
}
