// ResnetBlock3D (LAVIE.md §2.4): GroupNorm over all frames of a sample (5-D), SiLU, pseudo-3D
// (per-frame 2-D) convs, time embedding added per channel. Tensors are frame-batched NCHW.
import type { Value } from '../onnx/graph.ts';
import * as op from '../onnx/ops.ts';
import { conv2d, groupNorm, linear, silu, type NetCtx } from './nn.ts';

export interface Resnet3DOpts { cin: number; cout: number; groups: number; eps: number; frames: number; tembChannels?: number }

/** `temb` is the already SiLU'd time embedding [1|B, Ct] (shared by every block), or null. */
export function resnet3d(ctx: NetCtx, x: Value, tembAct: Value | null, prefix: string, o: Resnet3DOpts): Value {
  const g = ctx.g;
  let h = silu(ctx, groupNorm(ctx, x, `${prefix}.norm1`, o.groups, o.eps, o.frames));
  h = conv2d(ctx, h, `${prefix}.conv1`, { cin: o.cin, cout: o.cout, k: 3 });
  if (tembAct && o.tembChannels) {
    const t = linear(ctx, tembAct, `${prefix}.time_emb_proj`, o.tembChannels, o.cout); // [Bt, Cout]
    // One timestep for the whole batch (LaVie broadcasts it), so a [1, C, 1, 1] add covers every frame.
    if (t.shape[0] !== 1) throw new Error('resnet3d: per-sample timesteps are not supported');
    h = op.add(g, h, op.reshape(g, t, [1, o.cout, 1, 1]));
  }
  h = silu(ctx, groupNorm(ctx, h, `${prefix}.norm2`, o.groups, o.eps, o.frames));
  h = conv2d(ctx, h, `${prefix}.conv2`, { cin: o.cout, cout: o.cout, k: 3 });
  const skip = o.cin === o.cout ? x : conv2d(ctx, x, `${prefix}.conv_shortcut`, { cin: o.cin, cout: o.cout, k: 1 });
  return op.add(g, skip, h);
}
