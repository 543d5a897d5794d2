// Assemble a model pack: every network built through its one definition (src/convert/graphs),
// written with external weight shards, the tokenizer and text encoder in the layout
// @huggingface/transformers loads, and manifest.json tying it together.
import { buildClipText, type ClipTextConfig } from '../graphs/clip_text.ts';
import { DEFAULT_MAX_TENSOR_BYTES, type NetCtx } from '../graphs/nn.ts';
import type { Params } from '../graphs/params.ts';
import { FREENOISE_WINDOWS } from '../../engine/freenoise.ts';
import { buildBaseUNet, buildInterpUNet, type UNet3DConfig } from '../graphs/unet3d.ts';
import { buildVaeDecoder, buildVaeEncoder, type VaeConfig } from '../graphs/vae.ts';
import { buildVsrUNet, type VsrUNetConfig } from '../graphs/vsr-unet.ts';
import type { WeightPrecision } from '../graphs/weights.ts';
import { GraphBuilder } from '../onnx/graph.ts';
import { writeWhole, type PackSink } from '../io/bytes.ts';
import { writeTokenizerFolder, type TokenizerFolderFiles } from '../tokenizer.ts';
import { PACK_FORMAT, PACK_VERSION, parseManifest, type PackFile, type PackManifest, type TextEncoderComponent, type TileSpec, type VsrComponents, type VsrStage , type PackPersonalization, type PackAbout } from '../../packs/manifest.ts';
import { componentOf, writeGraph, writeGraphWithF16 } from './write-graph.ts';
import { LAVIE_DEFAULTS, LIMITS } from '../../protocol/request.ts';

export interface PackSpec {
  name: string;
  /** SD-1.x LoRAs / checkpoint merged into the weights (recorded in the manifest). */
  personalization?: PackPersonalization;
  /** Banner text and example prompts for the app (manifest.about). */
  about?: PackAbout;
  testWeights: boolean;
  unet: { cfg: UNet3DConfig; params: Params; precision: WeightPrecision };
  vae: { cfg: VaeConfig; params: Params; precision: WeightPrecision };
  text: { cfg: ClipTextConfig; params: Params; precision: WeightPrecision };
  /** Temporal interpolation UNet (lavie_interpolation.pt); optional. */
  interp?: { cfg: UNet3DConfig; params: Params; precision: WeightPrecision; steps?: number };
  /** Video super-resolution (lavie_vsr.pt + the x4 upscaler's VAE, text encoder and tokenizer); optional. */
  vsr?: {
    unet: { cfg: VsrUNetConfig; params: Params; precision: WeightPrecision; steps?: number };
    vae: { cfg: VaeConfig; params: Params; precision: WeightPrecision };
    text: { cfg: ClipTextConfig; params: Params; precision: WeightPrecision };
    tokenizer: TokenizerFolderFiles;
    /** UNet tile on the latent (= low-res pixel) grid; default 128×128, overlap 16. */
    tile?: TileSpec;
    /** x4 VAE decoder tile on the latent grid; default 80×128, overlap 8. */
    vaeTile?: TileSpec;
  };
  /** SD-1.4 style tokenizer folder (vocab.json, merges.txt, …), read. */
  tokenizer: TokenizerFolderFiles;
  /** Extra base lengths (FreeNoise long videos, 16 + 4k frames): one windowed base UNet graph each. */
  longFrames?: number[];
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

/**
 * The base UNet a pack ships for a long length: FreeNoise's windowed temporal attention, and one text
 * context per frame (`encoder_hidden_states` [(B·F), 77, D]) so that several prompts over frame
 * ranges need no second graph (one prompt: the engine repeats it, which is exactly the plain graph).
 */
export function buildLongBaseUNet(ctx: NetCtx, cfg: UNet3DConfig, shape: { batch: number; frames: number; height: number; width: number }): void {
  buildBaseUNet(ctx, cfg, shape, FREENOISE_WINDOWS, { perFrameText: true });
}

/** Tokenizer (tokenizer.json from vocab + merges) and CLIP text encoder (batch 2 = [negative, prompt]) in transformers.js layout. */
async function writeTextEncoder(sink: PackSink, tokFolder: string, folder: string, tokenizerFiles: TokenizerFolderFiles, text: PackSpec['text'], spec: { shardBytes?: number }): Promise<{ tokenizer: PackFile[]; textEncoder: TextEncoderComponent }> {
  const tokenizer = await writeTokenizerFolder(tokenizerFiles, sink, tokFolder);
  const tg = new GraphBuilder(`${folder}_clip`);
  buildClipText(ctxFor(tg, text.params, text.precision), text.cfg, { batch: 2 });
  text.params.assertAllUsed();
  // transformers.js's CLIPTextModel loads onnx/text_model.onnx and, for external weights (so the
  // browser never parses a 0.5 GB protobuf and the converter never holds one), its shards under
  // transformers.js's names text_model.onnx_data, text_model.onnx_data_1, …
  const graph = componentOf(await writeGraph(tg, sink, `${folder}/onnx`, 'text_model', { precision: text.precision, shardBytes: spec.shardBytes, shardName: (i) => `text_model.onnx_data${i ? `_${i}` : ''}` }));
  const config = await writeWhole(sink, `${folder}/config.json`, JSON.stringify({ ...text.cfg, model_type: 'clip_text_model', architectures: ['CLIPTextModel'] }, null, 1));
  return { tokenizer, textEncoder: { ...graph, folder, config, hiddenSize: text.cfg.hidden_size } };
}

function ctxFor(g: GraphBuilder, params: Params, precision: WeightPrecision): NetCtx {
  return { g, p: params, precision, maxTensorBytes: DEFAULT_MAX_TENSOR_BYTES };
}

/**
 * Convert and write a whole pack into `sink`, then commit it. On any failure the sink is aborted:
 * nothing half-converted is ever offered as a pack.
 */
export async function writePack(sink: PackSink, spec: PackSpec): Promise<PackManifest> {
  try {
    const manifest = await writePackFiles(sink, spec);
    await sink.commit();
    return manifest;
  } catch (e) {
    await sink.abort().catch(() => undefined);
    throw e;
  }
}

/**
 * One network of the pack: built and written, or — when the sink kept it from an interrupted
 * conversion — its record taken as written then (the build is deterministic: same bytes).
 */
async function step<T>(sink: PackSink, name: string, run: () => Promise<T>): Promise<T> {
  const prior = sink.resumed?.(name);
  if (prior !== undefined) return prior as T;
  const out = await run();
  await sink.checkpoint?.(name, out);
  return out;
}

async function writePackFiles(sink: PackSink, spec: PackSpec): Promise<PackManifest> {
  const log = spec.log ?? (() => {});
  const { frames, height: lh, width: lw } = spec.latent;

  const { tokenizer: tokFiles, textEncoder: textGraph } = await step(sink, 'text_encoder', async () => {
    const out = await writeTextEncoder(sink, 'tokenizer', 'text_encoder', spec.tokenizer, spec.text, spec);
    log(`text encoder: ${(out.textEncoder.externalData.reduce((a, f) => a + f.bytes, out.textEncoder.graph.bytes) / 1e6).toFixed(1)} MB`);
    return out;
  });
  const tc = spec.text.cfg;

  // Base UNet, CFG batch 2.
  const { unet, longBaseUnets } = await step(sink, 'unet', async () => {
    const ug = new GraphBuilder('base_unet');
    buildBaseUNet(ctxFor(ug, spec.unet.params, spec.unet.precision), spec.unet.cfg, { batch: 2, frames, height: lh, width: lw });
    spec.unet.params.assertAllUsed();
    const unetWritten = await writeGraphWithF16(ug, sink, 'unet', 'unet', { precision: spec.unet.precision, shardBytes: spec.shardBytes });
    // Long videos (FreeNoise): one windowed graph per extra length, on the same weight shards; CFG
    // batch 1 where batch 2 would pass the buffer bound (full size, 64 frames).
    const longBaseUnets = [];
    for (const lf of spec.longFrames ?? []) {
      const { g, batch } = buildForCfg(`base_unet_f${lf}`, (g, b) => buildLongBaseUNet(ctxFor(g, spec.unet.params, spec.unet.precision), spec.unet.cfg, { batch: b, frames: lf, height: lh, width: lw }), spec.gpuBufferLimit);
      longBaseUnets.push({ frames: lf, ...componentOf(await writeGraphWithF16(g, sink, 'unet', `unet_f${lf}`, { precision: spec.unet.precision, reuse: unetWritten })) });
      log(`base UNet, ${lf} frames (FreeNoise windows): CFG batch ${batch}, largest intermediate ${((g.largestIntermediate()?.bytes ?? 0) / 2 ** 20).toFixed(1)} MiB`);
    }
    log(`base UNet: ${(ug.weightBytes() / 1e6).toFixed(1)} MB, largest intermediate ${((ug.largestIntermediate()?.bytes ?? 0) / 2 ** 20).toFixed(1)} MiB`);
    return { unet: componentOf(unetWritten), longBaseUnets };
  });

  // VAE decoder, one frame at a time.
  const vaeDecoder = await step(sink, 'vae_decoder', async () => {
    const vg = new GraphBuilder('vae_decoder');
    buildVaeDecoder(ctxFor(vg, spec.vae.params, spec.vae.precision), spec.vae.cfg, { batch: 1, height: lh, width: lw });
    const out = componentOf(await writeGraphWithF16(vg, sink, 'vae_decoder', 'vae_decoder', { precision: spec.vae.precision, shardBytes: spec.shardBytes }));
    log(`VAE decoder: ${(vg.weightBytes() / 1e6).toFixed(1)} MB`);
    return out;
  });

  // VAE encoder (the interpolation stage encodes the base frames), one frame at a time.
  const scaleDown = 2 ** (spec.vae.cfg.block_out_channels.length - 1);
  const vaeEncoder = await step(sink, 'vae_encoder', async () => {
    const eg = new GraphBuilder('vae_encoder');
    buildVaeEncoder(ctxFor(eg, spec.vae.params, spec.vae.precision), spec.vae.cfg, { batch: 1, height: lh * scaleDown, width: lw * scaleDown });
    // Both VAE graphs are built by now (on a resume the decoder may have been skipped: checked then).
    if (!sink.resumed?.('vae_decoder')) spec.vae.params.assertAllUsed();
    const out = componentOf(await writeGraphWithF16(eg, sink, 'vae_encoder', 'vae_encoder', { precision: spec.vae.precision, shardBytes: spec.shardBytes }));
    log(`VAE encoder: ${(eg.weightBytes() / 1e6).toFixed(1)} MB`);
    return out;
  });

  // Interpolation UNet (LAVIE.md §4): CFG batch 2 over 4·F − 3 frames.
  const interpFrames = 4 * frames - 3;
  let interpUnet: PackManifest['components']['interpUnet'];
  if (spec.interp) {
    const interp = spec.interp;
    interpUnet = await step(sink, 'interp_unet', async () => {
      const { g: ig, batch } = buildForCfg('interp_unet', (g, b) => buildInterpUNet(ctxFor(g, interp.params, interp.precision), interp.cfg, { batch: b, frames: interpFrames, height: lh, width: lw }), spec.gpuBufferLimit);
      interp.params.assertAllUsed();
      const out = componentOf(await writeGraphWithF16(ig, sink, 'interp_unet', 'interp_unet', { precision: interp.precision, shardBytes: spec.shardBytes }));
      log(`interpolation UNet: CFG batch ${batch}, ${(ig.weightBytes() / 1e6).toFixed(1)} MB, largest intermediate ${((ig.largestIntermediate()?.bytes ?? 0) / 2 ** 20).toFixed(1)} MiB`);
      return out;
    });
  }

  const vsr = spec.vsr ? await step(sink, 'vsr', () => writeVsr(sink, spec, interpUnet ? [frames, interpFrames] : [frames], log)) : undefined;

  const manifest: PackManifest = {
    format: PACK_FORMAT,
    version: PACK_VERSION,
    name: spec.name,
    testWeights: spec.testWeights,
    createdBy: 'lavie-web convert 0.1.0',
    ...(spec.personalization ? { personalization: spec.personalization } : {}),
    ...(spec.about ? { about: spec.about } : {}),
    components: {
      tokenizer: { files: tokFiles },
      textEncoder: textGraph,
      baseUnet: unet,
      ...(longBaseUnets.length ? { longBaseUnets } : {}),
      vaeDecoder,
      vaeEncoder,
      ...(interpUnet ? { interpUnet } : {}),
      ...(vsr ? { vsr: vsr.component } : {}),
    },
    stages: {
      base: {
        frames,
        height: lh * scaleDown,
        width: lw * scaleDown,
        fps: spec.fps ?? 8,
        latent: { channels: spec.unet.cfg.in_channels, frames, height: lh, width: lw },
        textLength: LIMITS.promptTokens,
        textDim: tc.hidden_size,
        vaeScalingFactor: spec.vae.cfg.scaling_factor ?? 0.18215,
        sampler: { default: LAVIE_DEFAULTS.sampler, steps: spec.defaultSteps ?? LAVIE_DEFAULTS.steps, guidanceScale: LAVIE_DEFAULTS.guidanceScale, numTrainTimesteps: 1000, betaStart: 1e-4, betaEnd: 0.02, betaSchedule: 'linear' },
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
      ...(vsr ? { vsr: vsr.stage } : {}),
    },
  };
  parseManifest(manifest); // never write a manifest the app would reject
  await writeWhole(sink, 'manifest.json', JSON.stringify(manifest, null, 1)); // last: its presence means complete
  return manifest;
}

/** LaVie runs VSR on independent windows of this many frames (LAVIE.md §8.3). */
export const VSR_WINDOW_FRAMES = 8;

/**
 * The VSR part of a pack: one UNet graph per window length that occurs (8, and the shorter last
 * window of each input length — sharing the 8-frame graph's weight shards), the x4 VAE decoder for
 * one latent tile, and the x4 text encoder + tokenizer.
 */
async function writeVsr(sink: PackSink, spec: PackSpec, inputFrames: number[], log: (l: string) => void): Promise<{ component: VsrComponents; stage: VsrStage }> {
  const v = spec.vsr!;
  const { height: lh, width: lw } = spec.latent;
  const scaleDown = 2 ** (spec.vae.cfg.block_out_channels.length - 1);
  // The VSR latent grid is the low-res pixel grid: the base stage's output size.
  const H = lh * scaleDown;
  const W = lw * scaleDown;
  const tileReq = v.tile ?? { height: 128, width: 128, overlap: 16 };
  const tile = { height: Math.min(tileReq.height, H), width: Math.min(tileReq.width, W), overlap: tileReq.overlap };
  const vaeTileReq = v.vaeTile ?? { height: 80, width: 128, overlap: 8 };
  const vaeTile = { height: Math.min(vaeTileReq.height, H), width: Math.min(vaeTileReq.width, W), overlap: vaeTileReq.overlap };
  const { tokenizer, textEncoder } = await writeTextEncoder(sink, 'tokenizer_x4', 'text_encoder_x4', v.tokenizer, v.text, spec);

  const build = (frames: number) => (g: GraphBuilder, b: 1 | 2) => buildVsrUNet(ctxFor(g, v.unet.params, v.unet.precision), v.unet.cfg, { batch: b, frames, height: tile.height, width: tile.width });
  const { g: main, batch } = buildForCfg('vsr_unet', build(VSR_WINDOW_FRAMES), spec.gpuBufferLimit);
  v.unet.params.assertAllUsed();
  const written = await writeGraphWithF16(main, sink, 'vsr_unet', 'vsr_unet', { precision: v.unet.precision, shardBytes: spec.shardBytes });
  log(`VSR UNet: CFG batch ${batch}, tile ${tile.height}×${tile.width}, ${(main.weightBytes() / 1e6).toFixed(1)} MB, largest intermediate ${((main.largestIntermediate()?.bytes ?? 0) / 2 ** 20).toFixed(1)} MiB`);
  const tails = [...new Set(inputFrames.map((f) => f % VSR_WINDOW_FRAMES).filter((r) => r > 0))].sort((a, b) => a - b);
  const unetTails = [];
  for (const frames of tails) {
    const g = new GraphBuilder(`vsr_unet_f${frames}`);
    build(frames)(g, batch);
    unetTails.push({ frames, ...componentOf(await writeGraphWithF16(g, sink, 'vsr_unet', `vsr_unet_f${frames}`, { precision: v.unet.precision, reuse: written })) });
  }

  const dg = new GraphBuilder('vsr_vae_decoder');
  buildVaeDecoder(ctxFor(dg, v.vae.params, v.vae.precision), v.vae.cfg, { batch: 1, height: vaeTile.height, width: vaeTile.width });
  // The VSR stage never encodes; building the encoder (not written) still checks the file strictly.
  buildVaeEncoder(ctxFor(new GraphBuilder('x4_encoder_check'), v.vae.params, 'fp32'), v.vae.cfg, { batch: 1, height: 64, width: 64 });
  v.vae.params.assertAllUsed();
  const vaeDecoder = componentOf(await writeGraphWithF16(dg, sink, 'vsr_vae_decoder', 'vsr_vae_decoder', { precision: v.vae.precision, shardBytes: spec.shardBytes }));
  const scale = 2 ** (v.vae.cfg.block_out_channels.length - 1);
  log(`VSR VAE decoder: tile ${vaeTile.height}×${vaeTile.width} → ×${scale}, ${(dg.weightBytes() / 1e6).toFixed(1)} MB`);
  return {
    component: { tokenizer: { files: tokenizer }, textEncoder, unet: componentOf(written), unetTails, vaeDecoder },
    stage: {
      scale,
      windowFrames: VSR_WINDOW_FRAMES,
      height: H * scale,
      width: W * scale,
      latent: { channels: v.unet.cfg.out_channels, height: H, width: W },
      tile,
      vaeTile,
      steps: v.unet.steps ?? 50,
      guidanceScale: 5,
      noiseLevel: 50,
      negativePrompt: 'blur, worst quality',
      vaeScalingFactor: v.vae.cfg.scaling_factor ?? 0.08333,
      textDim: v.text.cfg.hidden_size,
    },
  };
}
