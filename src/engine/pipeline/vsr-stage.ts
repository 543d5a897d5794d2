// Stage 3 of LaVie (LAVIE.md §8.3): ×4 video super-resolution. Like LaVie: independent windows of
// 8 frames (the last one shorter), low-res noise augmentation at level 50 with the level as the
// UNet's class label, diffusers DDIM with v-prediction and CFG 5, x4 VAE decode, truncating uint8.
// Unlike LaVie, which runs whole 320×512 frames (4–5 GB tensors), the UNet and the VAE decoder run
// on overlapping spatial tiles (one static graph each) whose outputs are blended with weights that
// sum to 1 (tiles.ts): the UNet's v-prediction is blended every step, the decoded images once.
import type { TileSpec } from '../../packs/manifest.ts';
import { TensorScope, type DeviceTensor } from '../runtime/device.ts';
import type { ModelSession, Runtime } from '../runtime/runtime.ts';
import type { SamplerPlan } from '../schedulers/plan.ts';
import type { RgbaFrame } from '../types.ts';
import { rgbaToImage } from './interp-stage.ts';
import { throwIfAborted, type StageProgress } from './stage.ts';
import { planTiles, type TilePlan } from './tiles.ts';

/** The graphs for a window of `frames` frames, asked for at the start of each window (the caller
 * may load and release sessions between windows: memory budget).
 * unet: inputs sample, low_res, timestep, class_labels, encoder_hidden_states, one window length;
 * vaeDecoder: x4 VAE decoder for one latent tile: latent [1,4,th,tw] → decoded [1,3,s·th,s·tw]. */
export type VsrStageModels = (frames: number) => Promise<{ unet: ModelSession; vaeDecoder: ModelSession }>;

export interface VsrStageRequest {
  /** Input video (base or interpolated), RGBA uint8 on the latent grid. */
  input: readonly RgbaFrame[];
  plan: SamplerPlan;
  guidanceScale: number;
  windowFrames: number;
  latentChannels: number;
  /** Tile sizes (latent grid) the graphs were built for, with overlaps. */
  tile: TileSpec;
  vaeTile: TileSpec;
  scale: number;
  /** Low-res augmentation: x_lr = a·x + b·n, and the level passed as class label. */
  noiseLevel: number;
  lowResNoise: { a: number; b: number };
  /** [2, L, D] = [negative, prompt] (or the two halves for batch-1 graphs). */
  embeddings: DeviceTensor;
  sequentialCfg?: { uncond: DeviceTensor; cond: DeviceTensor };
  /** Window w's own text (prompts over frame ranges), in place of embeddings/sequentialCfg. */
  windowText?(w: number): { embeddings: DeviceTensor; sequentialCfg?: { uncond: DeviceTensor; cond: DeviceTensor } };
  scalingFactor: number;
  /** Window w draws stream 2w (low-res noise) and 2w+1 (initial latents). */
  noise(stream: number, count: number): Float32Array;
}


export interface VsrStageHooks {
  signal: AbortSignal;
  onProgress(p: StageProgress): void;
  onFrame?(f: RgbaFrame): Promise<void> | void;
}

/** LaVie's windows: [0, 8), [8, 16), …, the last one shorter. */
export function vsrWindows(frames: number, size: number): { start: number; frames: number }[] {
  const out: { start: number; frames: number }[] = [];
  for (let s = 0; s < frames; s += size) out.push({ start: s, frames: Math.min(size, frames - s) });
  return out;
}

export async function runVsrStage(rt: Runtime, models: VsrStageModels, req: VsrStageRequest, hooks: VsrStageHooks): Promise<void> {
  const dev = rt.device;
  const { width: W, height: H } = req.input[0]!;
  const c = req.latentChannels;
  const unetPlan = planTiles(H, W, req.tile.height, req.tile.width, req.tile.overlap);
  const vaePlan = planTiles(H, W, req.vaeTile.height, req.vaeTile.width, req.vaeTile.overlap);
  const decodedPlan: TilePlan = planTiles(H * req.scale, W * req.scale, vaePlan.tiles[0]!.h * req.scale, vaePlan.tiles[0]!.w * req.scale, req.vaeTile.overlap * req.scale);
  if (decodedPlan.tiles.length !== vaePlan.tiles.length) throw new Error('VSR: decoded tiles do not match latent tiles');
  const windows = vsrWindows(req.input.length, req.windowFrames);
  const steps = req.plan.steps;
  const { th, tw } = { th: unetPlan.tiles[0]!.h, tw: unetPlan.tiles[0]!.w };
  const scope = new TensorScope(dev);
  const alloc = (dims: number[]) => scope.alloc(dims);
  const upload = (dims: number[], data: Float32Array) => scope.from(dims, data);
  try {
    const unetWeights = unetPlan.weights.map((w) => upload([th, tw], w));
    const vth = vaePlan.tiles[0]!.h;
    const vtw = vaePlan.tiles[0]!.w;
    const imgWeights = decodedPlan.weights.map((w) => upload([vth * req.scale, vtw * req.scale], w));
    const start = performance.now();
    let calls = 0;
    const totalCalls = windows.length * steps.length * unetPlan.tiles.length;

    for (const [wi, win] of windows.entries()) {
      throwIfAborted(hooks.signal);
      const t = win.frames;
      const { unet, vaeDecoder } = await models(t);
      const text = req.windowText?.(wi) ?? req;
      const seq = text.sequentialCfg;
      const hw = H * W;
      // Low-res video of this window [1,3,t,H,W] in [−1,1], noised at the augmentation level.
      const lr = new Float32Array(3 * t * hw);
      for (let f = 0; f < t; f++) {
        const img = rgbaToImage(req.input[win.start + f]!);
        for (let ch = 0; ch < 3; ch++) lr.set(img.subarray(ch * hw, (ch + 1) * hw), (ch * t + f) * hw);
      }
      const lowRes = alloc([1, 3, t, H, W]);
      dev.upload(lowRes, lr);
      const n = alloc([1, 3, t, H, W]);
      dev.upload(n, req.noise(2 * wi, 3 * t * hw));
      dev.linear(lowRes, [[lowRes, req.lowResNoise.a], [n, req.lowResNoise.b]]);
      const x = alloc([1, c, t, H, W]);
      const init = req.noise(2 * wi + 1, c * t * hw);
      if (req.plan.initNoiseSigma !== 1) for (let i = 0; i < init.length; i++) init[i] = init[i]! * req.plan.initNoiseSigma;
      dev.upload(x, init);

      // Per-tile buffers (model batch: 2 for one CFG call, 1 for two calls).
      const mb = seq ? 1 : 2;
      const xTile = alloc([1, c, t, th, tw]);
      const lrTile = alloc([1, 3, t, th, tw]);
      const sampleIn = alloc([mb, c, t, th, tw]);
      const lowResIn = alloc([mb, 3, t, th, tw]);
      const out = alloc([2, c, t, th, tw]);
      const outU = seq ? alloc([1, c, t, th, tw]) : null;
      const outC = seq ? alloc([1, c, t, th, tw]) : null;
      const vBlend = alloc([1, c, t, H, W]);
      const labels = new rt.ort.Tensor('int64', BigInt64Array.from({ length: mb }, () => BigInt(req.noiseLevel)), [mb]);
      const tileN = c * t * th * tw;

      for (let k = 0; k < steps.length; k++) {
        const s = steps[k]!;
        const timestep = new rt.ort.Tensor('float32', Float32Array.of(s.t), [1]);
        dev.linear(vBlend, [[vBlend, 0]]);
        for (const [ti, tile] of unetPlan.tiles.entries()) {
          throwIfAborted(hooks.signal);
          const at = { y0: tile.y0, x0: tile.x0 };
          dev.crop(xTile, x, at, s.inputScale);
          dev.crop(lrTile, lowRes, at);
          const feeds = { timestep, class_labels: labels };
          if (seq && outU && outC) {
            await unet.run({ ...feeds, sample: dev.asOrt(xTile), low_res: dev.asOrt(lrTile), encoder_hidden_states: dev.asOrt(seq.uncond) }, { out: outU });
            await unet.run({ ...feeds, sample: dev.asOrt(xTile), low_res: dev.asOrt(lrTile), encoder_hidden_states: dev.asOrt(seq.cond) }, { out: outC });
            dev.accumulateTile(vBlend, { a: outU, b: outC, g: req.guidanceScale, weights: unetWeights[ti]!, dims: xTile.dims }, at);
          } else {
            dev.duplicate(sampleIn, xTile, 1);
            dev.duplicate(lowResIn, lrTile, 1);
            await unet.run({ ...feeds, sample: dev.asOrt(sampleIn), low_res: dev.asOrt(lowResIn), encoder_hidden_states: dev.asOrt(text.embeddings) }, { out });
            dev.accumulateTile(vBlend, { a: out, aOff: 0, b: out, bOff: tileN, g: req.guidanceScale, weights: unetWeights[ti]!, dims: xTile.dims }, at);
          }
          await dev.sync(); // one call in flight at most (see pipeline/denoise.ts)
          calls++;
          const per = (performance.now() - start) / calls;
          hooks.onProgress({ phase: 'denoise', step: k + 1, total: steps.length, window: wi + 1, windows: windows.length, tile: ti + 1, tiles: unetPlan.tiles.length, etaMs: per * (totalCalls - calls) });
        }
        dev.linear(x, [[x, s.update.x], [vBlend, s.update.out]]);
      }
      scope.free(xTile, lrTile, sampleIn, lowResIn, out, outU, outC, vBlend, n, lowRes);

      // Decode each frame tile by tile; blend the decoded tiles.
      const zTile = alloc([1, c, vth, vtw]);
      const imgTile = alloc([1, 3, vth * req.scale, vtw * req.scale]);
      const img = alloc([1, 3, H * req.scale, W * req.scale]);
      for (let f = 0; f < t; f++) {
        throwIfAborted(hooks.signal);
        dev.linear(img, [[img, 0]]);
        for (const [ti, tile] of vaePlan.tiles.entries()) {
          dev.crop(zTile, x, { f0: f, y0: tile.y0, x0: tile.x0 }, 1 / req.scalingFactor);
          await vaeDecoder.run({ latent: dev.asOrt(zTile) }, { decoded: imgTile });
          dev.accumulateTile(img, { a: imgTile, weights: imgWeights[ti]!, dims: imgTile.dims }, { y0: tile.y0 * req.scale, x0: tile.x0 * req.scale });
        }
        const rgba = await dev.toRgba(img, 'truncate');
        await hooks.onFrame?.({ index: win.start + f, width: W * req.scale, height: H * req.scale, rgba });
        hooks.onProgress({ phase: 'decode', step: f + 1, total: t, window: wi + 1, windows: windows.length });
      }
      scope.free(zTile, imgTile, img, x);
    }
  } finally {
    scope.dispose();
  }
}
