// Assemble a model pack: every network built through its one definition (src/convert/graphs),
// written with external weight shards, the tokenizer and text encoder in the layout
// @huggingface/transformers loads, and manifest.json tying it together.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildClipText, type ClipTextConfig } from '../graphs/clip_text.ts';
import { DEFAULT_MAX_TENSOR_BYTES, type NetCtx } from '../graphs/nn.ts';
import type { Params } from '../graphs/params.ts';
import { buildBaseUNet, buildInterpUNet, type UNet3DConfig } from '../graphs/unet3d.ts';
import { buildVaeDecoder, buildVaeEncoder, type VaeConfig } from '../graphs/vae.ts';
import type { WeightPrecision } from '../graphs/weights.ts';
import { GraphBuilder } from '../onnx/graph.ts';
import { writeTokenizerFolder } from '../tokenizer.ts';
import { PACK_FORMAT, PACK_VERSION, parseManifest, type PackManifest } from '../../packs/manifest.ts';
import { componentOf, describeFile, writeGraph } from './write-graph.ts';

export interface PackSpec {
  name: string;
  testWeights: boolean;
  unet: { cfg: UNet3DConfig; params: Params; precision: WeightPrecision };
  vae: { cfg: VaeConfig; params: Params; precision: WeightPrecision };
  text: { cfg: ClipTextConfig; params: Params; precision: WeightPrecision };
  /** Temporal interpolation UNet (lavie_interpolation.pt); optional. */
  interp?: { cfg: UNet3DConfig; params: Params; precision: WeightPrecision; steps?: number };
  /** SD-1.4 style tokenizer folder (vocab.json, merges.txt, …). */
  tokenizerDir: string;
  /** Latent video the base UNet is built for (static shapes). */
  latent: { frames: number; height: number; width: number };
  fps?: number;
  /** Default steps in the UI (real packs: LaVie's 50). */
  defaultSteps?: number;
  shardBytes?: number;
  /** GPU buffer bound used to pick each UNet's CFG batch (default 1 GiB). */
  gpuBufferLimit?: number;
  log?: (line: string) => void;
}

/** WebGPU buffers are capped at 1 GiB on SwiftShader and many real adapters (WEB-PLATFORM.md). */
export const MAX_GPU_BUFFER_BYTES = 2 ** 30;

/**
 * Build a UNet for the CFG batch: 2 (one call per step) when every intermediate fits the GPU
 * buffer bound, else 1 (the engine runs the two branches as two calls; batch rows never interact
 * inside the UNet, LAVIE.md §7.3, so the result is the same).
 */
export function buildForCfg(name: string, build: (g: GraphBuilder, batch: 1 | 2) => void, limitBytes = MAX_GPU_BUFFER_BYTES): { g: GraphBuilder; batch: 1 | 2 } {
  const g2 = new GraphBuilder(name);
  build(g2, 2);
  if ((g2.largestIntermediate()?.bytes ?? 0) <= limitBytes) return { g: g2, batch: 2 };
  const g1 = new GraphBuilder(name);
  build(g1, 1);
  return { g: g1, batch: 1 };
}

function ctxFor(g: GraphBuilder, params: Params, precision: WeightPrecision): NetCtx {
  return { g, p: params, precision, maxTensorBytes: DEFAULT_MAX_TENSOR_BYTES };
}

export function writePack(outDir: string, spec: PackSpec): PackManifest {
  const log = spec.log ?? (() => {});
  mkdirSync(outDir, { recursive: true });
  const { frames, height: lh, width: lw } = spec.latent;

  // Tokenizer (tokenizer.json built from vocab + merges).
  const tokFiles = writeTokenizerFolder(spec.tokenizerDir, join(outDir, 'tokenizer')).map((f) => describeFile(outDir, `tokenizer/${f}`));

  // Text encoder, batch 2 = [negative, prompt], in transformers.js layout.
  const tg = new GraphBuilder('clip_text');
  buildClipText(ctxFor(tg, spec.text.params, spec.text.precision), spec.text.cfg, { batch: 2 });
  spec.text.params.assertAllUsed();
  mkdirSync(join(outDir, 'text_encoder/onnx'), { recursive: true });
  // transformers.js's CLIPTextModel loads onnx/text_model.onnx.
  const textGraph = componentOf(writeGraph(tg, join(outDir, 'text_encoder/onnx'), 'text_model', 'text_encoder/onnx', { precision: spec.text.precision, inline: true }));
  const tc = spec.text.cfg;
  writeFileSync(join(outDir, 'text_encoder/config.json'), JSON.stringify({ ...tc, model_type: 'clip_text_model', architectures: ['CLIPTextModel'] }, null, 1));
  log(`text encoder: ${(tg.weightBytes() / 1e6).toFixed(1)} MB`);

  // Base UNet, CFG batch 2.
  mkdirSync(join(outDir, 'unet'), { recursive: true });
  const ug = new GraphBuilder('base_unet');
  buildBaseUNet(ctxFor(ug, spec.unet.params, spec.unet.precision), spec.unet.cfg, { batch: 2, frames, height: lh, width: lw });
  spec.unet.params.assertAllUsed();
  const unet = componentOf(writeGraph(ug, join(outDir, 'unet'), 'unet', 'unet', { precision: spec.unet.precision, shardBytes: spec.shardBytes }));
  log(`base UNet: ${(ug.weightBytes() / 1e6).toFixed(1)} MB, largest intermediate ${((ug.largestIntermediate()?.bytes ?? 0) / 2 ** 20).toFixed(1)} MiB`);

  // VAE decoder, one frame at a time.
  mkdirSync(join(outDir, 'vae_decoder'), { recursive: true });
  const vg = new GraphBuilder('vae_decoder');
  buildVaeDecoder(ctxFor(vg, spec.vae.params, spec.vae.precision), spec.vae.cfg, { batch: 1, height: lh, width: lw });
  const vaeDecoder = componentOf(writeGraph(vg, join(outDir, 'vae_decoder'), 'vae_decoder', 'vae_decoder', { precision: spec.vae.precision, shardBytes: spec.shardBytes }));
  log(`VAE decoder: ${(vg.weightBytes() / 1e6).toFixed(1)} MB`);

  // VAE encoder (the interpolation stage encodes the base frames), one frame at a time.
  const scaleDown = 2 ** (spec.vae.cfg.block_out_channels.length - 1);
  mkdirSync(join(outDir, 'vae_encoder'), { recursive: true });
  const eg = new GraphBuilder('vae_encoder');
  buildVaeEncoder(ctxFor(eg, spec.vae.params, spec.vae.precision), spec.vae.cfg, { batch: 1, height: lh * scaleDown, width: lw * scaleDown });
  spec.vae.params.assertAllUsed();
  const vaeEncoder = componentOf(writeGraph(eg, join(outDir, 'vae_encoder'), 'vae_encoder', 'vae_encoder', { precision: spec.vae.precision, shardBytes: spec.shardBytes }));
  log(`VAE encoder: ${(eg.weightBytes() / 1e6).toFixed(1)} MB`);

  // Interpolation UNet (LAVIE.md §4): CFG batch 2 over 4·F − 3 frames.
  const interpFrames = 4 * frames - 3;
  let interpUnet: PackManifest['components']['interpUnet'];
  if (spec.interp) {
    mkdirSync(join(outDir, 'interp_unet'), { recursive: true });
    const interp = spec.interp;
    const { g: ig, batch } = buildForCfg('interp_unet', (g, b) => buildInterpUNet(ctxFor(g, interp.params, interp.precision), interp.cfg, { batch: b, frames: interpFrames, height: lh, width: lw }), spec.gpuBufferLimit);
    interp.params.assertAllUsed();
    interpUnet = componentOf(writeGraph(ig, join(outDir, 'interp_unet'), 'interp_unet', 'interp_unet', { precision: spec.interp.precision, shardBytes: spec.shardBytes }));
    log(`interpolation UNet: CFG batch ${batch}, ${(ig.weightBytes() / 1e6).toFixed(1)} MB, largest intermediate ${((ig.largestIntermediate()?.bytes ?? 0) / 2 ** 20).toFixed(1)} MiB`);
  }

  const manifest: PackManifest = {
    format: PACK_FORMAT,
    version: PACK_VERSION,
    name: spec.name,
    testWeights: spec.testWeights,
    createdBy: 'lavie-web convert 0.1.0',
    components: {
      tokenizer: { files: tokFiles },
      textEncoder: { ...textGraph, folder: 'text_encoder', config: describeFile(outDir, 'text_encoder/config.json'), hiddenSize: tc.hidden_size },
      baseUnet: unet,
      vaeDecoder,
      vaeEncoder,
      ...(interpUnet ? { interpUnet } : {}),
    },
    stages: {
      base: {
        frames,
        height: lh * scaleDown,
        width: lw * scaleDown,
        fps: spec.fps ?? 8,
        latent: { channels: spec.unet.cfg.in_channels, frames, height: lh, width: lw },
        textLength: 77,
        textDim: tc.hidden_size,
        vaeScalingFactor: spec.vae.cfg.scaling_factor ?? 0.18215,
        sampler: { default: 'ddpm', steps: spec.defaultSteps ?? 50, guidanceScale: 7.5, numTrainTimesteps: 1000, betaStart: 1e-4, betaEnd: 0.02, betaSchedule: 'linear' },
      },
      ...(spec.interp ? {
        interp: {
          frames: interpFrames,
          fps: 24,
          latent: { channels: 4, frames: interpFrames, height: lh, width: lw },
          steps: spec.interp.steps ?? 50,
          guidanceScale: 4,
          promptSuffix: ', 4k.',
        },
      } : {}),
    },
  };
  parseManifest(manifest); // never write a manifest the app would reject
  writeFileSync(join(outDir, 'manifest.json'), JSON.stringify(manifest, null, 1));
  return manifest;
}
