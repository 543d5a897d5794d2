// LaVie at full size as a pack manifest without weights (npm run bench:memory, and the test that
// every option meets the memory target): the converter's full-size graphs built from synthetic state
// dicts that supply shapes lazily, with the pack's default storage (UNets fp16, VAEs and text
// encoders fp32); each component carries its weight bytes and its static liveness peak
// (GraphBuilder.peakLiveBytes, fp32 and fp16 compute). Building them takes a few seconds of CPU.
import { SD14_CLIP_TEXT_CONFIG, X4_CLIP_TEXT_CONFIG, buildClipText } from '../src/convert/graphs/clip_text.ts';
import { DEFAULT_MAX_TENSOR_BYTES, type NetCtx } from '../src/convert/graphs/nn.ts';
import { Params } from '../src/convert/graphs/params.ts';
import { LAVIE_BASE_UNET_CONFIG, LAVIE_INTERP_UNET_CONFIG, buildBaseUNet, buildInterpUNet } from '../src/convert/graphs/unet3d.ts';
import { SD14_VAE_CONFIG, X4_VAE_CONFIG, buildVaeDecoder, buildVaeEncoder } from '../src/convert/graphs/vae.ts';
import { LAVIE_VSR_UNET_CONFIG, buildVsrUNet } from '../src/convert/graphs/vsr-unet.ts';
import { DEFAULT_PRECISIONS } from '../src/convert/official.ts';
import { fp16Compute } from '../src/convert/onnx/fp16-compute.ts';
import { GraphBuilder } from '../src/convert/onnx/graph.ts';
import { VSR_WINDOW_FRAMES, buildForCfg } from '../src/convert/pack/write-pack.ts';
import { synthesizer } from '../src/convert/synthetic.ts';
import type { GraphComponent, IoDType, PackManifest, WeightPrecision } from '../src/packs/manifest.ts';
import { LAVIE_DEFAULTS } from '../src/protocol.ts';


interface Opts { log?: (line: string) => void }

/** A graph as the converter would write it, without weights: a manifest component carrying its sizes. */
function component(opts: Opts, name: string, precision: WeightPrecision, build: (ctx: NetCtx) => void, g = new GraphBuilder(name)): GraphComponent {
  const t0 = performance.now();
  build({ g, p: new Params(new Map(), `synthetic ${name}`, synthesizer(0)), precision, maxTensorBytes: DEFAULT_MAX_TENSOR_BYTES });
  const c: GraphComponent = {
    graph: { path: `${name}.onnx`, bytes: 0, sha256: '' },
    graphF16: { path: `${name}.f16.onnx`, bytes: 0, sha256: '' },
    externalData: [{ path: `${name}.bin`, bytes: g.weightBytes(), sha256: '' }],
    precision,
    inputs: g.inputs.map((v) => ({ name: v.name, dtype: v.dtype as IoDType, shape: [...v.shape] })),
    outputs: g.outputs.map((v) => ({ name: v.name, dtype: v.dtype as IoDType, shape: [...v.shape] })),
    nodes: g.nodes.length,
    largestTensorBytes: g.largestIntermediate()?.bytes ?? 0,
    peakLiveBytes: g.peakLiveBytes().bytes,
    peakLiveBytesF16: fp16Compute(g).peakLiveBytes().bytes,
  };
  opts.log?.(`${name}: ${(g.weightBytes() / 1e9).toFixed(2)} GB weights (${precision}), peak live ${(c.peakLiveBytes! / 1e9).toFixed(2)} GB fp32 / ${(c.peakLiveBytesF16! / 1e9).toFixed(2)} GB fp16 compute (${((performance.now() - t0) / 1000).toFixed(0)} s)`);
  return c;
}

/** buildForCfg's choice of CFG batch (1 where batch 2 passes the buffer bound), then the graph. */
function cfgComponent(opts: Opts, name: string, precision: WeightPrecision, build: (ctx: NetCtx, batch: 1 | 2) => void): GraphComponent {
  const { batch } = buildForCfg(name, (g, b) => build({ g, p: new Params(new Map(), 'synthetic', synthesizer(0)), precision, maxTensorBytes: DEFAULT_MAX_TENSOR_BYTES }, b));
  return component(opts, name, precision, (ctx) => build(ctx, batch));
}

/** LaVie's full-size pack, without weights. */
export function fullSizeManifest(opts: Opts = {}): PackManifest {
  // LaVie at full size, as the converter writes it (src/convert/pack/write-pack.ts): 16 base frames
  // on a 40×64 latent (320×512 pixels), 61 interpolated frames, ×4 VSR on 8-frame windows of
  // 128×128 latent tiles (tail window of 61 % 8 = 5 frames), x4 VAE on 80×128 tiles.
  const P = DEFAULT_PRECISIONS;
  const L = { frames: 16, height: 40, width: 64 };
  const interpFrames = 4 * L.frames - 3;
  const tile = { height: 128, width: 128, overlap: 16 };
  const vaeTile = { height: 80, width: 128, overlap: 8 };
  const file = (path: string) => ({ path, bytes: 0, sha256: '' });
  const text = (name: string, cfg: typeof SD14_CLIP_TEXT_CONFIG) => ({ ...component(opts, name, P.text, (ctx) => buildClipText(ctx, cfg, { batch: 2 })), folder: name, config: file(`${name}/config.json`), hiddenSize: cfg.hidden_size });
  const vsrUnet = (frames: number) => (ctx: NetCtx, b: 1 | 2) => buildVsrUNet(ctx, LAVIE_VSR_UNET_CONFIG, { batch: b, frames, height: tile.height, width: tile.width });

  return {
    format: 'lavie-web-pack', version: 0, name: 'LaVie full size (static)', testWeights: true, createdBy: 'bench:memory',
    components: {
      tokenizer: { files: [] },
      textEncoder: text('text_encoder', SD14_CLIP_TEXT_CONFIG),
      baseUnet: component(opts, 'base_unet', P.unet, (ctx) => buildBaseUNet(ctx, LAVIE_BASE_UNET_CONFIG, { batch: 2, ...L })),
      vaeDecoder: component(opts, 'vae_decoder', P.vae, (ctx) => buildVaeDecoder(ctx, SD14_VAE_CONFIG, { batch: 1, height: L.height, width: L.width })),
      vaeEncoder: component(opts, 'vae_encoder', P.vae, (ctx) => buildVaeEncoder(ctx, SD14_VAE_CONFIG, { batch: 1, height: 8 * L.height, width: 8 * L.width })),
      interpUnet: cfgComponent(opts, 'interp_unet', P.unet, (ctx, b) => buildInterpUNet(ctx, LAVIE_INTERP_UNET_CONFIG, { batch: b, frames: interpFrames, height: L.height, width: L.width })),
      vsr: {
        tokenizer: { files: [] },
        textEncoder: text('text_encoder_x4', X4_CLIP_TEXT_CONFIG),
        unet: cfgComponent(opts, 'vsr_unet', P.unet, vsrUnet(VSR_WINDOW_FRAMES)),
        unetTails: [{ frames: interpFrames % VSR_WINDOW_FRAMES, ...cfgComponent(opts, `vsr_unet_f${interpFrames % VSR_WINDOW_FRAMES}`, P.unet, vsrUnet(interpFrames % VSR_WINDOW_FRAMES)) }],
        vaeDecoder: component(opts, 'vsr_vae_decoder', P.vae, (ctx) => buildVaeDecoder(ctx, X4_VAE_CONFIG, { batch: 1, ...vaeTile })),
      },
    },
    stages: {
      base: { frames: L.frames, height: 8 * L.height, width: 8 * L.width, fps: 8, latent: { channels: 4, ...L }, textLength: 77, textDim: 768, vaeScalingFactor: 0.18215, sampler: { default: LAVIE_DEFAULTS.sampler, steps: LAVIE_DEFAULTS.steps, guidanceScale: LAVIE_DEFAULTS.guidanceScale, numTrainTimesteps: 1000, betaStart: 1e-4, betaEnd: 0.02, betaSchedule: 'linear' } },
      interp: { frames: interpFrames, fps: 24, latent: { channels: 4, frames: interpFrames, height: L.height, width: L.width }, steps: 50, guidanceScale: 4, promptSuffix: ', 4k.' },
      vsr: { scale: 4, windowFrames: VSR_WINDOW_FRAMES, height: 32 * L.height, width: 32 * L.width, latent: { channels: 4, height: 8 * L.height, width: 8 * L.width }, tile, vaeTile, steps: 50, guidanceScale: 5, noiseLevel: 50, negativePrompt: 'blur, worst quality', vaeScalingFactor: 0.08333, textDim: 1024 },
    },
  } as unknown as PackManifest;
}
