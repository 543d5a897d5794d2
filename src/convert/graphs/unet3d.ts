// LaVie's base UNet3DConditionModel (LAVIE.md §3): SD-1.4's 2-D UNet with 5-D GroupNorms,
// a temporal attention in every transformer block and the text context repeated per frame.
// Inputs and output are video tensors NCFHW like the official model; inside, everything is
// frame-batched [(B·F), C, H, W] so each 2-D op is one plain ONNX op.
import type { Value } from '../onnx/graph.ts';
import * as op from '../onnx/ops.ts';
import { conv2d, groupNorm, linear, silu, type NetCtx } from './nn.ts';
import { resnet3d } from './resnet3d.ts';
import type { TemporalWindows } from '../../engine/freenoise.ts';
import { BASE_TRANSFORMER, framesToVideo, INTERP_TRANSFORMER, textPerFrame, transformer3d, videoToFrames, type Transformer3DVariant } from './transformer3d.ts';

export interface UNet3DConfig {
  in_channels: number;
  out_channels: number;
  down_block_types: string[];
  up_block_types: string[];
  block_out_channels: number[];
  layers_per_block: number;
  norm_num_groups: number;
  norm_eps: number;
  cross_attention_dim: number;
  /** Number of heads (SD's misnomer, LAVIE.md §11.2). */
  attention_head_dim: number;
  flip_sin_to_cos: boolean;
  freq_shift: number;
  downsample_padding?: number;
  [k: string]: unknown;
}

export interface LatentVideoShape { batch: number; frames: number; height: number; width: number }

/** Full-size LaVie base UNet: SD-1.4's config with 3-D blocks (LAVIE.md §3.1). */
export const LAVIE_BASE_UNET_CONFIG: UNet3DConfig = {
  sample_size: 64, in_channels: 4, out_channels: 4, center_input_sample: false, flip_sin_to_cos: true, freq_shift: 0,
  down_block_types: ['CrossAttnDownBlock3D', 'CrossAttnDownBlock3D', 'CrossAttnDownBlock3D', 'DownBlock3D'],
  mid_block_type: 'UNetMidBlock3DCrossAttn',
  up_block_types: ['UpBlock3D', 'CrossAttnUpBlock3D', 'CrossAttnUpBlock3D', 'CrossAttnUpBlock3D'],
  only_cross_attention: false, block_out_channels: [320, 640, 1280, 1280], layers_per_block: 2, downsample_padding: 1,
  mid_block_scale_factor: 1, act_fn: 'silu', norm_num_groups: 32, norm_eps: 1e-5, cross_attention_dim: 768,
  attention_head_dim: 8, use_linear_projection: false, class_embed_type: null, num_class_embeds: null, upcast_attention: false,
  resnet_time_scale_shift: 'default', use_first_frame: false, use_relative_position: false,
};

/** Full-size interpolation UNet: the same SD-1.4 tree, 8 input channels, first-frame attention (LAVIE.md §4.1). */
export const LAVIE_INTERP_UNET_CONFIG: UNet3DConfig = { ...LAVIE_BASE_UNET_CONFIG, in_channels: 8, use_first_frame: true };

/** diffusers Timesteps(C, flip_sin_to_cos, freq_shift) frequencies, rounded like torch's float32 ops. */
export function timestepFrequencies(channels: number, freqShift: number): Float32Array {
  const half = channels / 2;
  const f = Math.fround;
  const negLog = f(-Math.log(10000));
  return Float32Array.from({ length: half }, (_, k) => f(Math.exp(f(f(negLog * k) / (half - freqShift)))));
}

/** Sinusoidal embedding of the scalar timestep input t [1] → [1, C] ([cos | sin] when flipped). */
export function timestepEmbedding(ctx: NetCtx, t: Value, channels: number, flip: boolean, freqShift: number): Value {
  const g = ctx.g;
  // t·freq reaches 999: fp16 would round it to 0.5 and scramble the phase, so float32 always.
  return g.keepFp32(() => {
    const arg = op.mul(g, op.reshape(g, t, [1, 1]), g.constF32(timestepFrequencies(channels, freqShift), [1, channels / 2], 'time_freqs'));
    const s = op.sin(g, arg);
    const c = op.cos(g, arg);
    return op.concat(g, flip ? [c, s] : [s, c], 1);
  });
}

/** timestep [1] → sinusoids → time_embedding.linear_1 → SiLU → linear_2: emb [1, 4·C0] (LAVIE.md §2.3). */
export function timeEmbeddingMlp(ctx: NetCtx, cfg: UNet3DConfig, timestep: Value): Value {
  const c0 = cfg.block_out_channels[0]!;
  const t = timestepEmbedding(ctx, timestep, c0, cfg.flip_sin_to_cos, cfg.freq_shift);
  return linear(ctx, silu(ctx, linear(ctx, t, 'time_embedding.linear_1', c0, 4 * c0)), 'time_embedding.linear_2', 4 * c0, 4 * c0);
}

const hasAttention = (blockType: string) => blockType.startsWith('CrossAttn');

/** What differs between the UNet copies inside the shared down/mid/up skeleton. */
export interface UNetBodyParts {
  res(x: Value, prefix: string, cin: number, cout: number): Value;
  /** A transformer slot; `level` is the down/up block index (mid: −1). */
  attn(x: Value, prefix: string, level: number, up: boolean): Value;
  /** After each down block (incl. its downsampler; skips are already taken), the mid block, each up block. */
  afterDown?(h: Value, i: number): Value;
  afterMid?(h: Value): Value;
  afterUp?(h: Value, i: number): Value;
}

/**
 * The SD UNet skeleton every LaVie UNet shares (LAVIE.md §3.2, §5.2): from conv_in's output to the
 * input of conv_norm_out — down blocks collecting skips, the mid block, up blocks that concatenate
 * [hidden, skip] before each ResNet (skips popped LIFO).
 */
export function unetBody(ctx: NetCtx, cfg: UNet3DConfig, h0: Value, parts: UNetBodyParts): Value {
  const g = ctx.g;
  const boc = cfg.block_out_channels;
  let h = h0;
  const skips: Value[] = [h];
  let cin = boc[0]!;
  cfg.down_block_types.forEach((type, i) => {
    const cout = boc[i]!;
    g.scope(`down${i}`, () => {
      for (let j = 0; j < cfg.layers_per_block; j++) {
        h = parts.res(h, `down_blocks.${i}.resnets.${j}`, j === 0 ? cin : cout, cout);
        if (hasAttention(type)) h = parts.attn(h, `down_blocks.${i}.attentions.${j}`, i, false);
        skips.push(h);
      }
      if (i < boc.length - 1) {
        const p = cfg.downsample_padding ?? 1;
        h = conv2d(ctx, h, `down_blocks.${i}.downsamplers.0.conv`, { cin: cout, cout, k: 3, stride: 2, pads: [p, p, p, p] });
        skips.push(h);
      }
      if (parts.afterDown) h = parts.afterDown(h, i);
    });
    cin = cout;
  });

  const top = boc[boc.length - 1]!;
  g.scope('mid', () => {
    h = parts.res(h, 'mid_block.resnets.0', top, top);
    h = parts.attn(h, 'mid_block.attentions.0', -1, false);
    h = parts.res(h, 'mid_block.resnets.1', top, top);
    if (parts.afterMid) h = parts.afterMid(h);
  });

  const rev = [...boc].reverse();
  let prevOut = rev[0]!;
  cfg.up_block_types.forEach((type, i) => {
    const cout = rev[i]!;
    const inCh = rev[Math.min(i + 1, rev.length - 1)]!;
    const layers = cfg.layers_per_block + 1;
    g.scope(`up${i}`, () => {
      for (let j = 0; j < layers; j++) {
        const skip = skips.pop()!;
        const skipCh = j === layers - 1 ? inCh : cout;
        if (skip.shape[1] !== skipCh) throw new Error(`up_blocks.${i}: skip has ${skip.shape[1]} channels, expected ${skipCh}`);
        h = parts.res(op.concat(g, [h, skip], 1), `up_blocks.${i}.resnets.${j}`, (j === 0 ? prevOut : cout) + skipCh, cout);
        if (hasAttention(type)) h = parts.attn(h, `up_blocks.${i}.attentions.${j}`, i, true);
      }
      if (i < rev.length - 1) h = conv2d(ctx, op.upsampleNearest2x(g, h), `up_blocks.${i}.upsamplers.0.conv`, { cin: cout, cout, k: 3 });
      if (parts.afterUp) h = parts.afterUp(h, i);
    });
    prevOut = cout;
  });
  return h;
}

/**
 * LaVie's base UNet (§3): 4 input channels, full spatial attention, RoPE temporal attention.
 * `windows` (FreeNoise, long videos): temporal attention over sliding windows of the native 16
 * frames; at 16 frames the graph is the plain one. `perFrameText` (several prompts over frame
 * ranges): `encoder_hidden_states` is [(B·F), 77, D], one context per frame (row b·F + f), which
 * each frame's cross-attention reads — the graph otherwise repeats one [B, 77, D] context per frame.
 */
export function buildBaseUNet(ctx: NetCtx, cfg: UNet3DConfig, shape: LatentVideoShape, windows?: TemporalWindows, opts: { perFrameText?: boolean } = {}): void {
  buildUNet3D(ctx, cfg, shape, BASE_TRANSFORMER, { ...(windows ? { windows } : {}), ...opts });
}

/**
 * LaVie's interpolation UNet (§4): the same tree with sparse-causal attn1 and FF before a
 * position-free temporal attention. The official model takes cat([x_t, x_cond], dim=1); the graph
 * takes the two halves as inputs `sample` and `condition` and concatenates them itself, so the
 * engine can keep the (fixed) condition on the device and only rewrite x_t each step.
 */
export function buildInterpUNet(ctx: NetCtx, cfg: UNet3DConfig, shape: LatentVideoShape): void {
  if (cfg.in_channels !== 8) throw new Error(`interpolation UNet: in_channels ${cfg.in_channels}, expected 8 (latent ‖ condition)`);
  buildUNet3D(ctx, cfg, shape, INTERP_TRANSFORMER, { conditionChannels: 4 });
}

/** SD-1.4's UNet with 3-D blocks; inputs `sample` NCFHW, `timestep` f32[1], `encoder_hidden_states`; output `out`. */
export function buildUNet3D(ctx: NetCtx, cfg: UNet3DConfig, shape: LatentVideoShape, variant: Transformer3DVariant, opts: { conditionChannels?: number; windows?: TemporalWindows; perFrameText?: boolean } = {}): void {
  const g = ctx.g;
  const { batch: B, frames: F, height: H, width: W } = shape;
  const boc = cfg.block_out_channels;
  const groups = cfg.norm_num_groups;
  const eps = cfg.norm_eps;
  const heads = cfg.attention_head_dim;
  const c0 = boc[0]!;
  const tembCh = 4 * c0;

  const condCh = opts.conditionChannels ?? 0;
  let sample = g.input('sample', 'float32', [B, cfg.in_channels - condCh, F, H, W]);
  if (condCh) sample = op.concat(g, [sample, g.input('condition', 'float32', [B, condCh, F, H, W])], 1);
  const timestep = g.input('timestep', 'float32', [1]);
  const text = g.input('encoder_hidden_states', 'float32', [opts.perFrameText ? B * F : B, 77, cfg.cross_attention_dim]);

  // Time embedding, computed once and shared by every ResNet (already passed through SiLU).
  const tembAct = silu(ctx, timeEmbeddingMlp(ctx, cfg, timestep));
  const textPF = opts.perFrameText ? text : textPerFrame(ctx, text, F);

  const res = (x: Value, prefix: string, cin: number, cout: number) => resnet3d(ctx, x, tembAct, prefix, { cin, cout, groups, eps, frames: F, tembChannels: tembCh });
  const attn = (x: Value, prefix: string) => transformer3d(ctx, x, textPF, prefix, { heads, frames: F, groups, textDim: cfg.cross_attention_dim, variant, ...(opts.windows ? { windows: opts.windows } : {}) });

  let h = conv2d(ctx, videoToFrames(ctx, sample), 'conv_in', { cin: cfg.in_channels, cout: c0, k: 3 });
  h = unetBody(ctx, cfg, h, { res, attn: (x, prefix) => attn(x, prefix) });
  h = silu(ctx, groupNorm(ctx, h, 'conv_norm_out', groups, eps, F));
  h = conv2d(ctx, h, 'conv_out', { cin: c0, cout: cfg.out_channels, k: 3 });
  g.output(framesToVideo(ctx, h, F), 'out');
}
