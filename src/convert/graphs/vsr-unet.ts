// LaVie's video super-resolution UNet3DVSRModel (LAVIE.md §5): the SD x4 upscaler's UNet with
// 3-D blocks — the low-res video concatenated to the latent, the noise level as a class embedding,
// a temporal ResNet in every transformer slot and a TemporalModule3D after every down/mid/up block.
// Frame-batched [(B·F), C, H, W] inside, like the base UNet; no Conv3d (temporal convs are Conv2d
// over a [B, C, F, H·W] view).
import type { Value } from '../onnx/graph.ts';
import * as op from '../onnx/ops.ts';
import { conv2d, groupNorm, silu, type NetCtx } from './nn.ts';
import { resnet3d, temporalResnet } from './resnet3d.ts';
import { VSR_TRANSFORMER, framesToVideo, textPerFrame, transformer3d, videoToFrames } from './transformer3d.ts';
import { checkRopeFreqs } from './temporal-attention.ts';
import { plainWeight } from './weights.ts';
import { timeEmbeddingMlp, unetBody, type LatentVideoShape, type UNet3DConfig } from './unet3d.ts';

export interface VsrUNetConfig extends UNet3DConfig {
  only_cross_attention: boolean[];
  num_class_embeds: number;
  down_temporal_idx: number[];
  up_temporal_idx: number[];
  mid_temporal: boolean;
}

/** Full-size VSR UNet: LaVie's vsr/configs/unet_3d_config.json (LAVIE.md §5.1). */
export const LAVIE_VSR_UNET_CONFIG: VsrUNetConfig = {
  sample_size: 128, in_channels: 7, out_channels: 4, center_input_sample: false, flip_sin_to_cos: true, freq_shift: 0,
  down_block_types: ['DownBlock3D', 'CrossAttnDownBlock3D', 'CrossAttnDownBlock3D', 'CrossAttnDownBlock3D'],
  mid_block_type: 'UNetMidBlock3DCrossAttn',
  up_block_types: ['CrossAttnUpBlock3D', 'CrossAttnUpBlock3D', 'CrossAttnUpBlock3D', 'UpBlock3D'],
  only_cross_attention: [true, true, true, false], block_out_channels: [256, 512, 512, 1024], layers_per_block: 2,
  downsample_padding: 1, mid_block_scale_factor: 1, act_fn: 'silu', norm_num_groups: 32, norm_eps: 1e-5,
  cross_attention_dim: 1024, attention_head_dim: 8, use_linear_projection: true, num_class_embeds: 1000, max_noise_level: 350,
  down_temporal_idx: [0, 1, 2, 3], up_temporal_idx: [0, 1, 2, 3], mid_temporal: true, video_condition: false,
  use_first_frame: false, use_relative_position: false,
};

/**
 * Inputs: `sample` [B,4,F,H,W] (noisy latent), `low_res` [B,3,F,H,W] (noised low-res video on the
 * same grid; concatenated after the latent as the official forward does), `timestep` f32 [1],
 * `class_labels` int64 [B] (the noise level), `encoder_hidden_states` [B,77,D]. Output `out` (v).
 */
export function buildVsrUNet(ctx: NetCtx, cfg: VsrUNetConfig, shape: LatentVideoShape): void {
  const g = ctx.g;
  const { batch: B, frames: F, height: H, width: W } = shape;
  const boc = cfg.block_out_channels;
  const groups = cfg.norm_num_groups;
  const eps = cfg.norm_eps;
  const heads = cfg.attention_head_dim;
  const c0 = boc[0]!;
  const tembCh = 4 * c0;
  const latentCh = cfg.out_channels;

  const sample = g.input('sample', 'float32', [B, latentCh, F, H, W]);
  const lowRes = g.input('low_res', 'float32', [B, cfg.in_channels - latentCh, F, H, W]);
  const timestep = g.input('timestep', 'float32', [1]);
  const labels = g.input('class_labels', 'int64', [B]);
  const text = g.input('encoder_hidden_states', 'float32', [B, 77, cfg.cross_attention_dim]);

  // Time MLP, plus the class (noise-level) embedding per sample: emb [B, 4·C0].
  const temb = timeEmbeddingMlp(ctx, cfg, timestep);
  const table = plainWeight(ctx, 'class_embedding.weight', ctx.p.get('class_embedding.weight', [cfg.num_class_embeds, tembCh]));
  const emb = op.add(g, temb, op.gather(g, table, labels));
  const tembAct = silu(ctx, emb);
  const textPF = textPerFrame(ctx, text, F);
  // The shared RoPE module is stored once more at the top level (LAVIE.md §1.3); it must hold RoPE's constants.
  checkRopeFreqs(ctx, 'temporal_rotary_emb.freqs');

  const res = (x: Value, prefix: string, cin: number, cout: number) => resnet3d(ctx, x, tembAct, prefix, { cin, cout, groups, eps, frames: F, tembChannels: tembCh });
  const attn = (x: Value, prefix: string, onlyCross: boolean) => transformer3d(ctx, x, textPF, prefix, { heads, frames: F, groups, textDim: cfg.cross_attention_dim, variant: VSR_TRANSFORMER, onlyCross });
  // TemporalModule3D without attention (LAVIE.md §5.4): x + shift_conv(spatial resnet(temporal resnet(x))).
  const temporalModule = (x: Value, prefix: string) => {
    const c = x.shape[1]!;
    let h = temporalResnet(ctx, x, tembAct, `${prefix}.resblocks_3d_t`, { frames: F, k: 5, tembChannels: tembCh });
    h = resnet3d(ctx, h, tembAct, `${prefix}.resblocks_3d_s`, { cin: c, cout: c, groups: 32, eps: 1e-6, frames: F, tembChannels: tembCh });
    return op.add(g, x, conv2d(ctx, h, `${prefix}.shift_conv`, { cin: c, cout: c, k: 1 }));
  };

  const revCross = [...cfg.only_cross_attention].reverse();
  let h = conv2d(ctx, videoToFrames(ctx, op.concat(g, [sample, lowRes], 1)), 'conv_in', { cin: cfg.in_channels, cout: c0, k: 3 });
  h = unetBody(ctx, cfg, h, {
    res,
    // only_cross_attention per down level, reversed for the up levels; the mid block attends spatially.
    attn: (x, prefix, level, up) => attn(x, prefix, level < 0 ? false : (up ? revCross : cfg.only_cross_attention)[level]!),
    // Skips are taken before the temporal modules (LAVIE.md §5.2).
    afterDown: (x, i) => (cfg.down_temporal_idx.includes(i) ? temporalModule(x, `down_temporal_blocks.${i}`) : x),
    afterMid: (x) => (cfg.mid_temporal ? temporalModule(x, 'mid_temporal_block') : x),
    afterUp: (x, i) => (cfg.up_temporal_idx.includes(i) ? temporalModule(x, `up_temporal_blocks.${i}`) : x),
  });

  h = silu(ctx, groupNorm(ctx, h, 'conv_norm_out', groups, eps, F));
  h = conv2d(ctx, h, 'conv_out', { cin: c0, cout: cfg.out_channels, k: 3 });
  g.output(framesToVideo(ctx, h, F), 'out');
}
