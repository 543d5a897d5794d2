// npm run make-tiny-pack -- <outDir>
// The built-in demo/test pack: every network of the base stage at tiny size with SYNTHETIC random
// weights under the official key names, converted by the same code path as real checkpoints.
// Deterministic: the same sources give byte-identical files. Output is noise (test weights).
import { resolve } from 'node:path';
import type { ClipTextConfig } from '../graphs/clip_text.ts';
import { Params } from '../graphs/params.ts';
import type { UNet3DConfig } from '../graphs/unet3d.ts';
import { X4_VAE_CONFIG, type VaeConfig } from '../graphs/vae.ts';
import { LAVIE_VSR_UNET_CONFIG, type VsrUNetConfig } from '../graphs/vsr-unet.ts';
import { syntheticTokenizerFolderFiles } from '../pack/synthetic-tokenizer.ts';
import { writePack } from '../pack/write-pack.ts';
import { longFramesArg } from './long-frames.ts';
import { memoryFolder, type PackSink } from '../io/bytes.ts';
import { readTokenizerFolder } from '../tokenizer.ts';
import type { TileSpec } from '../../packs/manifest.ts';
import { synthesizer } from '../synthetic.ts';
import { runCli } from './cli-util.ts';
import { dirPackSink } from './node-io.ts';

/** Tiny base stage: 16 frames of 8×8 latents (32×32 video). SwiftShader costs ~4.5 ms per node
 * dispatch whatever the widths, so the UNets have two levels, not LaVie's four (every block type and
 * temporal module is still there): 770 nodes instead of 1650 per call, which halves each browser test's
 * denoising step. The VAE is kept narrow. */
export const TINY_LATENT = { frames: 16, height: 8, width: 8 };

export const TINY_UNET: UNet3DConfig = {
  sample_size: 8, in_channels: 4, out_channels: 4, center_input_sample: false, flip_sin_to_cos: true, freq_shift: 0,
  down_block_types: ['CrossAttnDownBlock3D', 'DownBlock3D'],
  mid_block_type: 'UNetMidBlock3DCrossAttn',
  up_block_types: ['UpBlock3D', 'CrossAttnUpBlock3D'],
  only_cross_attention: false, block_out_channels: [32, 48], layers_per_block: 1, downsample_padding: 1,
  mid_block_scale_factor: 1, act_fn: 'silu', norm_num_groups: 16, norm_eps: 1e-5, cross_attention_dim: 32,
  attention_head_dim: 1, dual_cross_attention: false, use_linear_projection: false, class_embed_type: null,
  num_class_embeds: null, upcast_attention: false, resnet_time_scale_shift: 'default', use_first_frame: false, use_relative_position: false,
} as unknown as UNet3DConfig;

/** SD's VAE layout but 3 levels (×4, not ×8): 32×32 frames keep the VSR stage affordable on SwiftShader. */
export const TINY_VAE: VaeConfig = {
  in_channels: 3, out_channels: 3,
  down_block_types: ['DownEncoderBlock2D', 'DownEncoderBlock2D', 'DownEncoderBlock2D'],
  up_block_types: ['UpDecoderBlock2D', 'UpDecoderBlock2D', 'UpDecoderBlock2D'],
  block_out_channels: [8, 16, 16], layers_per_block: 1, act_fn: 'silu', latent_channels: 4, norm_num_groups: 8,
  sample_size: 64, scaling_factor: 0.18215,
} as unknown as VaeConfig;

/** Tiny VSR UNet: LaVie's VSR blocks (x4-upscaler layout), two levels, width 32 (its temporal modules hard-code 32 groups). */
export const TINY_VSR_UNET: VsrUNetConfig = {
  ...LAVIE_VSR_UNET_CONFIG,
  down_block_types: ['DownBlock3D', 'CrossAttnDownBlock3D'], up_block_types: ['CrossAttnUpBlock3D', 'UpBlock3D'],
  only_cross_attention: [true, false], down_temporal_idx: [0, 1], up_temporal_idx: [0, 1],
  block_out_channels: [32, 32], layers_per_block: 1, attention_head_dim: 1, cross_attention_dim: 32,
};

/** Tiny x4 VAE: 3 levels (×4), narrow. */
export const TINY_X4_VAE: VaeConfig = {
  ...X4_VAE_CONFIG, block_out_channels: [8, 16, 16], layers_per_block: 1, norm_num_groups: 8,
};

export function tinyClipConfig(vocabSize: number, act: 'quick_gelu' | 'gelu' = 'quick_gelu'): ClipTextConfig {
  return {
    vocab_size: vocabSize, hidden_size: 32, intermediate_size: 64, projection_dim: 32, num_hidden_layers: 2,
    num_attention_heads: 2, max_position_embeddings: 77, hidden_act: act, layer_norm_eps: 1e-5,
    attention_dropout: 0, dropout: 0, initializer_range: 0.02, initializer_factor: 1,
    bos_token_id: vocabSize - 2, eos_token_id: vocabSize - 1, pad_token_id: vocabSize - 1,
  } as unknown as ClipTextConfig;
}

export interface TinyPackOptions {
  gpuBufferLimit?: number;
  /** VSR tiles (default: the whole 32×32 grid, one tile). */
  vsrTile?: TileSpec;
  vsrVaeTile?: TileSpec;
  /** Extra base lengths (FreeNoise long videos), e.g. [24, 32]. */
  longFrames?: number[];
}

/** The tiny pack into a folder (Node); see writeTinyPack. */
export function makeTinyPack(outDir: string, log?: (l: string) => void, opts: TinyPackOptions = {}): Promise<void> {
  return writeTinyPack(dirPackSink(outDir), log, opts);
}

export async function writeTinyPack(sink: PackSink, log?: (l: string) => void, opts: TinyPackOptions = {}): Promise<void> {
  {
    const tok = syntheticTokenizerFolderFiles();
    // The x4 upscaler's tokenizer pads with "!" (id 0) instead of <|endoftext|> (LAVIE.md §7.1).
    const tokX4 = syntheticTokenizerFolderFiles({ padToken: '!' });
    const vocab = tok.vocabSize;
    const vocabX4 = tokX4.vocabSize;
    const synth = (seed: number, what: string) => new Params(new Map(), `synthetic ${what}`, synthesizer(seed));
    await writePack(sink, {
      name: 'LaVie tiny (test weights)',
      testWeights: true,
      unet: { cfg: TINY_UNET, params: synth(1, 'unet'), precision: 'fp32' },
      vae: { cfg: TINY_VAE, params: synth(2, 'vae'), precision: 'fp32' },
      text: { cfg: tinyClipConfig(vocab), params: synth(3, 'text encoder'), precision: 'fp32' },
      interp: { cfg: { ...TINY_UNET, in_channels: 8, use_first_frame: true }, params: synth(4, 'interpolation unet'), precision: 'fp32', steps: 2 }, // LaVie: 50; 2 keeps the browser e2e within budget
      vsr: {
        unet: { cfg: TINY_VSR_UNET, params: synth(5, 'vsr unet'), precision: 'fp32', steps: 1 }, // LaVie: 50
        vae: { cfg: TINY_X4_VAE, params: synth(6, 'x4 vae'), precision: 'fp32' },
        text: { cfg: tinyClipConfig(vocabX4, 'gelu'), params: synth(7, 'x4 text encoder'), precision: 'fp32' },
        tokenizer: await readTokenizerFolder(memoryFolder('synthetic x4 tokenizer', tokX4.files), ''),
        tile: opts.vsrTile ?? { height: 32, width: 32, overlap: 8 },
        vaeTile: opts.vsrVaeTile ?? { height: 32, width: 32, overlap: 4 },
      },
      tokenizer: await readTokenizerFolder(memoryFolder('synthetic tokenizer', tok.files), ''),
      latent: TINY_LATENT,
      ...(opts.longFrames ? { longFrames: opts.longFrames } : {}),
      gpuBufferLimit: opts.gpuBufferLimit,
      defaultSteps: 10,
      log,
    });
  }
}

if (process.argv[1] && resolve(process.argv[1]).endsWith('make-tiny-pack.ts')) {
  const usage = `usage: npm run make-tiny-pack -- <outDir> [--long-frames all|none|24,32,…]

Writes the tiny random-weight test pack (the official lavie-tiny fixtures' shapes) to <outDir>, with
long-video base graphs (FreeNoise, per-frame text) for every length 20, 24, …, 64 unless told otherwise:
the demo pack offers every length the app's length control allows.`;
  runCli({ usage, maxPositional: 1, options: ['long-frames'] }, async ({ positional: [out], opts }) => {
    if (!out) throw new Error('an output folder is required (see --help)');
    const long = opts['long-frames'] ?? 'all';
    await makeTinyPack(resolve(out), (l) => console.log(l), long === 'none' ? {} : { longFrames: longFramesArg(long) });
    console.log(`tiny pack written to ${resolve(out)}`);
  });
}
