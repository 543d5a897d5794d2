// AutoencoderKL as diffusers 0.16 builds it (LAVIE.md §6): the SD-1.4 VAE (base decode,
// interpolation encode+decode) and the x4-upscaler VAE (VSR decode) share this definition.
// Images are processed one frame (or a small batch) at a time; there are no temporal parts.
import type { Value } from '../onnx/graph.ts';
import * as op from '../onnx/ops.ts';
import { attentionCore, conv2d, groupNorm, linear, silu, type NetCtx } from './nn.ts';

export interface VaeConfig {
  in_channels: number;
  out_channels: number;
  down_block_types: string[];
  up_block_types: string[];
  block_out_channels: number[];
  layers_per_block: number;
  act_fn: string;
  latent_channels: number;
  norm_num_groups: number;
  sample_size?: number;
  scaling_factor?: number;
}

const BLOCKS4 = (k: string) => [k, k, k, k];

export const SD14_VAE_CONFIG: VaeConfig = {
  in_channels: 3, out_channels: 3, down_block_types: BLOCKS4('DownEncoderBlock2D'), up_block_types: BLOCKS4('UpDecoderBlock2D'),
  block_out_channels: [128, 256, 512, 512], layers_per_block: 2, act_fn: 'silu', latent_channels: 4, norm_num_groups: 32, sample_size: 512, scaling_factor: 0.18215,
};

export const X4_VAE_CONFIG: VaeConfig = {
  in_channels: 3, out_channels: 3, down_block_types: BLOCKS4('DownEncoderBlock2D').slice(0, 3), up_block_types: BLOCKS4('UpDecoderBlock2D').slice(0, 3),
  block_out_channels: [128, 256, 512], layers_per_block: 2, act_fn: 'silu', latent_channels: 4, norm_num_groups: 32, sample_size: 256, scaling_factor: 0.08333,
};

const EPS = 1e-6;

/** ResnetBlock2D without time embedding (VAE). */
function resnet(ctx: NetCtx, x: Value, prefix: string, cin: number, cout: number, groups: number): Value {
  let h = silu(ctx, groupNorm(ctx, x, `${prefix}.norm1`, groups, EPS));
  h = conv2d(ctx, h, `${prefix}.conv1`, { cin, cout, k: 3 });
  h = silu(ctx, groupNorm(ctx, h, `${prefix}.norm2`, groups, EPS));
  h = conv2d(ctx, h, `${prefix}.conv2`, { cin: cout, cout, k: 3 });
  const skip = cin === cout ? x : conv2d(ctx, x, `${prefix}.conv_shortcut`, { cin, cout, k: 1 });
  return op.add(ctx.g, skip, h);
}

/** Single-head self-attention over all pixels (diffusers 0.16 AttentionBlock key names). */
function attentionBlock(ctx: NetCtx, x: Value, prefix: string, groups: number): Value {
  const g = ctx.g;
  const [n, c, h, w] = x.shape as [number, number, number, number];
  const normed = groupNorm(ctx, x, `${prefix}.group_norm`, groups, EPS);
  const tokens = op.transpose(g, op.reshape(g, normed, [n, c, h * w]), [0, 2, 1]);
  const q = op.mulScalar(g, linear(ctx, tokens, `${prefix}.query`, c, c), 1 / Math.sqrt(c));
  const k = linear(ctx, tokens, `${prefix}.key`, c, c);
  const v = linear(ctx, tokens, `${prefix}.value`, c, c);
  const heads = (t: Value) => op.reshape(g, t, [n, 1, h * w, c]);
  const o = op.reshape(g, attentionCore(ctx, heads(q), heads(k), heads(v)), [n, h * w, c]);
  const out = linear(ctx, o, `${prefix}.proj_attn`, c, c);
  return op.add(g, x, op.reshape(g, op.transpose(g, out, [0, 2, 1]), [n, c, h, w]));
}

function midBlock(ctx: NetCtx, x: Value, prefix: string, c: number, groups: number): Value {
  let h = resnet(ctx, x, `${prefix}.resnets.0`, c, c, groups);
  h = attentionBlock(ctx, h, `${prefix}.attentions.0`, groups);
  return resnet(ctx, h, `${prefix}.resnets.1`, c, c, groups);
}

export interface ImageShape { batch: number; height: number; width: number }

/**
 * Encoder + quant_conv + posterior sample. Inputs `image` [N,3,H,W] in [-1,1] and `noise`
 * [N,C,H/f,W/f]; outputs `latent_mean`, `latent_std`, `latent_sample` (unscaled).
 */
export function buildVaeEncoder(ctx: NetCtx, cfg: VaeConfig, shape: ImageShape): void {
  const g = ctx.g;
  const boc = cfg.block_out_channels;
  const groups = cfg.norm_num_groups;
  const f = 2 ** (boc.length - 1);
  const image = g.input('image', 'float32', [shape.batch, cfg.in_channels, shape.height, shape.width]);
  const noise = g.input('noise', 'float32', [shape.batch, cfg.latent_channels, shape.height / f, shape.width / f]);
  let h = conv2d(ctx, image, 'encoder.conv_in', { cin: cfg.in_channels, cout: boc[0]!, k: 3 });
  let cin = boc[0]!;
  boc.forEach((cout, i) => {
    g.scope(`down${i}`, () => {
      for (let j = 0; j < cfg.layers_per_block; j++) {
        h = resnet(ctx, h, `encoder.down_blocks.${i}.resnets.${j}`, j === 0 ? cin : cout, cout, groups);
      }
      // Downsample2D(padding=0): zero-pad right and bottom by one, then a stride-2 3×3 conv.
      if (i < boc.length - 1) h = conv2d(ctx, h, `encoder.down_blocks.${i}.downsamplers.0.conv`, { cin: cout, cout, k: 3, stride: 2, pads: [0, 0, 1, 1] });
    });
    cin = cout;
  });
  const top = boc[boc.length - 1]!;
  h = midBlock(ctx, h, 'encoder.mid_block', top, groups);
  h = silu(ctx, groupNorm(ctx, h, 'encoder.conv_norm_out', groups, EPS));
  h = conv2d(ctx, h, 'encoder.conv_out', { cin: top, cout: 2 * cfg.latent_channels, k: 3 });
  const moments = conv2d(ctx, h, 'quant_conv', { cin: 2 * cfg.latent_channels, cout: 2 * cfg.latent_channels, k: 1 });
  const [mean, logvarRaw] = op.split(g, moments, 1, [cfg.latent_channels, cfg.latent_channels]) as [Value, Value];
  const std = op.exp(g, op.mulScalar(g, op.clip(g, logvarRaw, -30, 20), 0.5));
  g.output(mean, 'latent_mean');
  g.output(std, 'latent_std');
  g.output(op.add(g, mean, op.mul(g, std, noise)), 'latent_sample');
}

/** post_quant_conv + decoder. Input `latent` [N,C,h,w] (× inputScale if given); output `decoded` [N,3,h·f,w·f]. */
export function buildVaeDecoder(ctx: NetCtx, cfg: VaeConfig, shape: ImageShape, opts: { inputScale?: number } = {}): void {
  const g = ctx.g;
  const boc = cfg.block_out_channels;
  const groups = cfg.norm_num_groups;
  const lc = cfg.latent_channels;
  let z = g.input('latent', 'float32', [shape.batch, lc, shape.height, shape.width]);
  if (opts.inputScale !== undefined) z = op.mulScalar(g, z, opts.inputScale);
  let h = conv2d(ctx, z, 'post_quant_conv', { cin: lc, cout: lc, k: 1 });
  const rev = [...boc].reverse();
  h = conv2d(ctx, h, 'decoder.conv_in', { cin: lc, cout: rev[0]!, k: 3 });
  h = midBlock(ctx, h, 'decoder.mid_block', rev[0]!, groups);
  let prev = rev[0]!;
  rev.forEach((cout, i) => {
    g.scope(`up${i}`, () => {
      for (let j = 0; j < cfg.layers_per_block + 1; j++) {
        h = resnet(ctx, h, `decoder.up_blocks.${i}.resnets.${j}`, j === 0 ? prev : cout, cout, groups);
      }
      if (i < rev.length - 1) h = conv2d(ctx, op.upsampleNearest2x(g, h), `decoder.up_blocks.${i}.upsamplers.0.conv`, { cin: cout, cout, k: 3 });
    });
    prev = cout;
  });
  h = silu(ctx, groupNorm(ctx, h, 'decoder.conv_norm_out', groups, EPS));
  g.output(conv2d(ctx, h, 'decoder.conv_out', { cin: boc[0]!, cout: cfg.out_channels, k: 3 }), 'decoded');
}

