// GPU memory of every LaVie option at full size (issue 20 item 2), fp16 and fp32 compute:
//   npm run bench:memory [-- --json]
// Static part, computed in Node without weights: LaVie's full-size graphs are built as the
// converter builds them (synthetic state dicts supply shapes lazily; the pack's default storage:
// UNets fp16, VAEs and text encoders fp32), each graph's weight bytes and its static liveness
// peak (GraphBuilder.peakLiveBytes, fp32 and fp16 compute) go into a manifest, and the engine's
// own estimate (engine/stages/plan.ts: optionPeaks, sessions released between stages as the
// budget needs) gives each option's peak. The measured part (sessions created on WebGPU with
// full-size packs in Chromium) is not run here: measuredBytes is null (see docs/BENCHMARKS.md).
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
import { runCli } from '../src/convert/cli/cli-util.ts';
import { optionPeaks } from '../src/engine/stages/plan.ts';
import type { GraphComponent, IoDType, PackManifest, WeightPrecision } from '../src/packs/manifest.ts';
import { LAVIE_DEFAULTS, type ComputePrecision, type GenerateRequest } from '../src/protocol.ts';

const USAGE = `usage: npm run bench:memory [-- --json]
  Peak GPU bytes of LaVie options 1-4 at full size, fp16 and fp32 compute: weights as ORT holds them
  plus the graphs' static liveness peak (sessions released between stages). --json prints
  [{"option", "compute", "peakBytes", "measuredBytes", "staticBytes"}] (measuredBytes: null, not measured here).`;

let json = false;
const log = (s: string) => { if (!json) console.error(s); };

/** A graph as the converter would write it, without weights: a manifest component carrying its sizes. */
function component(name: string, precision: WeightPrecision, build: (ctx: NetCtx) => void, g = new GraphBuilder(name)): GraphComponent {
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
  log(`${name}: ${(g.weightBytes() / 1e9).toFixed(2)} GB weights (${precision}), peak live ${(c.peakLiveBytes! / 1e9).toFixed(2)} GB fp32 / ${(c.peakLiveBytesF16! / 1e9).toFixed(2)} GB fp16 compute (${((performance.now() - t0) / 1000).toFixed(0)} s)`);
  return c;
}

/** buildForCfg's choice of CFG batch (1 where batch 2 passes the buffer bound), then the graph. */
function cfgComponent(name: string, precision: WeightPrecision, build: (ctx: NetCtx, batch: 1 | 2) => void): GraphComponent {
  const { batch } = buildForCfg(name, (g, b) => build({ g, p: new Params(new Map(), 'synthetic', synthesizer(0)), precision, maxTensorBytes: DEFAULT_MAX_TENSOR_BYTES }, b));
  return component(name, precision, (ctx) => build(ctx, batch));
}

async function main(): Promise<void> {
  // LaVie at full size, as the converter writes it (src/convert/pack/write-pack.ts): 16 base frames
  // on a 40×64 latent (320×512 pixels), 61 interpolated frames, ×4 VSR on 8-frame windows of
  // 128×128 latent tiles (tail window of 61 % 8 = 5 frames), x4 VAE on 80×128 tiles.
  const P = DEFAULT_PRECISIONS;
  const L = { frames: 16, height: 40, width: 64 };
  const interpFrames = 4 * L.frames - 3;
  const tile = { height: 128, width: 128, overlap: 16 };
  const vaeTile = { height: 80, width: 128, overlap: 8 };
  const file = (path: string) => ({ path, bytes: 0, sha256: '' });
  const text = (name: string, cfg: typeof SD14_CLIP_TEXT_CONFIG) => ({ ...component(name, P.text, (ctx) => buildClipText(ctx, cfg, { batch: 2 })), folder: name, config: file(`${name}/config.json`), hiddenSize: cfg.hidden_size });
  const vsrUnet = (frames: number) => (ctx: NetCtx, b: 1 | 2) => buildVsrUNet(ctx, LAVIE_VSR_UNET_CONFIG, { batch: b, frames, height: tile.height, width: tile.width });

  const m = {
    format: 'lavie-web-pack', version: 0, name: 'LaVie full size (static)', testWeights: true, createdBy: 'bench:memory',
    components: {
      tokenizer: { files: [] },
      textEncoder: text('text_encoder', SD14_CLIP_TEXT_CONFIG),
      baseUnet: component('base_unet', P.unet, (ctx) => buildBaseUNet(ctx, LAVIE_BASE_UNET_CONFIG, { batch: 2, ...L })),
      vaeDecoder: component('vae_decoder', P.vae, (ctx) => buildVaeDecoder(ctx, SD14_VAE_CONFIG, { batch: 1, height: L.height, width: L.width })),
      vaeEncoder: component('vae_encoder', P.vae, (ctx) => buildVaeEncoder(ctx, SD14_VAE_CONFIG, { batch: 1, height: 8 * L.height, width: 8 * L.width })),
      interpUnet: cfgComponent('interp_unet', P.unet, (ctx, b) => buildInterpUNet(ctx, LAVIE_INTERP_UNET_CONFIG, { batch: b, frames: interpFrames, height: L.height, width: L.width })),
      vsr: {
        tokenizer: { files: [] },
        textEncoder: text('text_encoder_x4', X4_CLIP_TEXT_CONFIG),
        unet: cfgComponent('vsr_unet', P.unet, vsrUnet(VSR_WINDOW_FRAMES)),
        unetTails: [{ frames: interpFrames % VSR_WINDOW_FRAMES, ...cfgComponent(`vsr_unet_f${interpFrames % VSR_WINDOW_FRAMES}`, P.unet, vsrUnet(interpFrames % VSR_WINDOW_FRAMES)) }],
        vaeDecoder: component('vsr_vae_decoder', P.vae, (ctx) => buildVaeDecoder(ctx, X4_VAE_CONFIG, { batch: 1, ...vaeTile })),
      },
    },
    stages: {
      base: { frames: L.frames, height: 8 * L.height, width: 8 * L.width, fps: 8, latent: { channels: 4, ...L }, textLength: 77, textDim: 768, vaeScalingFactor: 0.18215, sampler: { default: LAVIE_DEFAULTS.sampler, steps: LAVIE_DEFAULTS.steps, guidanceScale: LAVIE_DEFAULTS.guidanceScale, numTrainTimesteps: 1000, betaStart: 1e-4, betaEnd: 0.02, betaSchedule: 'linear' } },
      interp: { frames: interpFrames, fps: 24, latent: { channels: 4, frames: interpFrames, height: L.height, width: L.width }, steps: 50, guidanceScale: 4, promptSuffix: ', 4k.' },
      vsr: { scale: 4, windowFrames: VSR_WINDOW_FRAMES, height: 32 * L.height, width: 32 * L.width, latent: { channels: 4, height: 8 * L.height, width: 8 * L.width }, tile, vaeTile, steps: 50, guidanceScale: 5, noiseLevel: 50, negativePrompt: 'blur, worst quality', vaeScalingFactor: 0.08333, textDim: 1024 },
    },
  } as unknown as PackManifest;

  const req: GenerateRequest = { id: '', prompt: '', negativePrompt: '', seed: 0, steps: LAVIE_DEFAULTS.steps, guidanceScale: LAVIE_DEFAULTS.guidanceScale, sampler: LAVIE_DEFAULTS.sampler };
  const TARGET: Record<ComputePrecision, number> = { fp16: 6e9, fp32: 8e9 };
  const rows = (['fp16', 'fp32'] as const).flatMap((compute) => optionPeaks(m, req, compute).map((o) => ({ option: o.option, compute, peakBytes: o.peakBytes, measuredBytes: null as number | null, staticBytes: o.peakBytes })));

  if (json) {
    console.log(JSON.stringify(rows));
  } else {
    const gb = (n: number) => `${(n / 1e9).toFixed(2)} GB`;
    console.log(`\n| option | compute | peak (static: weights + liveness) | measured | target | meets |\n|---|---|---|---|---|---|`);
    for (const r of rows) console.log(`| ${r.option} | ${r.compute} | ${gb(r.staticBytes)} | not measured | ≤ ${gb(TARGET[r.compute])} | ${r.peakBytes <= TARGET[r.compute] ? 'yes' : '**no**'} |`);
  }
}

runCli({ usage: USAGE, switches: ['json'] }, async ({ opts }) => {
  json = opts.json === 'true';
  await main();
});
