// ResnetBlock3D (LAVIE.md §2.4): GroupNorm over all frames of a sample (5-D), SiLU, pseudo-3D
// (per-frame 2-D) convs, time embedding added per channel. Tensors are frame-batched NCHW.
import type { Value } from '../onnx/graph.ts';
import * as op from '../onnx/ops.ts';
import type { TensorRef } from '../tensor.ts';
import { conv2d, groupNorm, linear, silu, type NetCtx } from './nn.ts';
import { convWeight, plainWeight } from './weights.ts';

export interface Resnet3DOpts { cin: number; cout: number; groups: number; eps: number; frames: number; tembChannels?: number }

/** `temb` is the already SiLU'd time embedding [1|B, Ct] (shared by every block), or null. */
export function resnet3d(ctx: NetCtx, x: Value, tembAct: Value | null, prefix: string, o: Resnet3DOpts): Value {
  const g = ctx.g;
  let h = silu(ctx, groupNorm(ctx, x, `${prefix}.norm1`, o.groups, o.eps, o.frames));
  h = conv2d(ctx, h, `${prefix}.conv1`, { cin: o.cin, cout: o.cout, k: 3 });
  if (tembAct && o.tembChannels) {
    const t = linear(ctx, tembAct, `${prefix}.time_emb_proj`, o.tembChannels, o.cout); // [Bt, Cout]
    h = addPerSample(ctx, h, t, o.frames);
  }
  h = silu(ctx, groupNorm(ctx, h, `${prefix}.norm2`, o.groups, o.eps, o.frames));
  h = conv2d(ctx, h, `${prefix}.conv2`, { cin: o.cout, cout: o.cout, k: 3 });
  const skip = o.cin === o.cout ? x : conv2d(ctx, x, `${prefix}.conv_shortcut`, { cin: o.cin, cout: o.cout, k: 1 });
  return op.add(g, skip, h);
}

/**
 * h [(B·F), C, H, W] + e[b] per channel, for an embedding e [1|B, C]: one shared timestep is a
 * plain broadcast; per-sample embeddings (VSR's noise-level class) go through a [B, F, C, H·W] view.
 */
export function addPerSample(ctx: NetCtx, h: Value, e: Value, frames: number): Value {
  const g = ctx.g;
  const [bf, c, hh, w] = h.shape as [number, number, number, number];
  if (e.shape[0] === 1) return op.add(g, h, op.reshape(g, e, [1, c, 1, 1]));
  const b = bf / frames;
  if (e.shape[0] !== b) throw new Error(`embedding batch ${e.shape[0]} vs ${b} samples`);
  return op.reshape(g, op.add(g, op.reshape(g, h, [b, frames, c, hh * w]), op.reshape(g, e, [b, 1, c, 1])), [bf, c, hh, w]);
}

/** A PyTorch Conv3d weight [Cout, Cin, k, 1, 1] seen as the Conv2d kernel [Cout, Cin, k, 1]. */
function temporalKernel(t: TensorRef): TensorRef {
  const [co, ci, k] = t.shape as [number, number, number];
  return { dtype: t.dtype, shape: [co, ci, k, 1], read: () => t.read(), ...(t.readBytes ? { readBytes: () => t.readBytes!() } : {}) };
}

/**
 * Conv3d with kernel (k, 1, 1) and zero padding (k−1)/2 in time, on frame-batched maps: a Conv2d
 * over the [B, C, F, H·W] view (ONNX Conv3d has no WebGPU kernel in onnxruntime-web).
 */
export function temporalConv(ctx: NetCtx, x: Value, prefix: string, frames: number, k: number): Value {
  const g = ctx.g;
  const [bf, c, h, w] = x.shape as [number, number, number, number];
  const b = bf / frames;
  const v = op.reshape(g, op.transpose(g, op.reshape(g, x, [b, frames, c, h * w]), [0, 2, 1, 3]), [b, c, frames, h * w]);
  const wRef = temporalKernel(ctx.p.get(`${prefix}.weight`, [c, c, k, 1, 1]));
  const kernel = convWeight(ctx, `${prefix}.weight`, wRef);
  const bias = plainWeight(ctx, `${prefix}.bias`, ctx.p.get(`${prefix}.bias`, [c]));
  const p = (k - 1) / 2;
  const y = op.conv(g, v, kernel, bias, { pads: [p, 0, p, 0] });
  return op.reshape(g, op.transpose(g, op.reshape(g, y, [b, c, frames, h * w]), [0, 2, 1, 3]), [bf, c, h, w]);
}

/**
 * VSR's ResnetBlock3DCNN (LAVIE.md §5.4): GroupNorm over frames (32 groups, eps 1e-6) → SiLU →
 * temporal conv k → [+ time embedding] → GroupNorm → SiLU → temporal conv 3 → residual.
 */
export function temporalResnet(ctx: NetCtx, x: Value, tembAct: Value | null, prefix: string, o: { frames: number; k: number; tembChannels?: number }): Value {
  const g = ctx.g;
  const c = x.shape[1]!;
  let h = temporalConv(ctx, silu(ctx, groupNorm(ctx, x, `${prefix}.norm1`, 32, 1e-6, o.frames)), `${prefix}.conv1`, o.frames, o.k);
  if (tembAct && o.tembChannels) h = addPerSample(ctx, h, linear(ctx, tembAct, `${prefix}.time_emb_proj`, o.tembChannels, c), o.frames);
  h = temporalConv(ctx, silu(ctx, groupNorm(ctx, h, `${prefix}.norm2`, 32, 1e-6, o.frames)), `${prefix}.conv2`, o.frames, 3);
  return op.add(g, x, h);
}
