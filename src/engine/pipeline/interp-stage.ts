// Stage 2 of LaVie (LAVIE.md §8.2): 16 base frames → 4·16 − 3 = 61 frames.
//   1. VAE-encode each base frame once (the script encodes all 61 resampled frames but only keeps
//      the posterior samples of frames 0, 4, …, 60 — one per original frame);
//   2. condition video: output frame j is conditioned on original frame ⌊(j+1)/4⌋ (repeat ×4, drop
//      the first and the last two);
//   3. respaced DDIM (η = 0) with CFG on the UNet that takes [x_t ‖ condition];
//   4. decode frame by frame.
import { TensorScope, type DeviceTensor } from '../runtime/device.ts';
import type { ModelSession, Runtime } from '../runtime/runtime.ts';
import type { SamplerPlan } from '../schedulers/plan.ts';
import type { PreviewImage, RgbaFrame } from '../types.ts';
import { decodeFrames } from './decode.ts';
import { denoise } from './denoise.ts';
import { throwIfAborted, type LatentShape, type StageProgress } from './stage.ts';

export interface InterpStageModels {
  /** inputs image [1,3,H,W] in [−1,1], noise [1,C,h,w]; output latent_sample [1,C,h,w]. */
  vaeEncoder: ModelSession;
  /** inputs sample [2,C,F',h,w], condition [2,C,F',h,w], timestep, encoder_hidden_states. */
  unet: ModelSession;
  vaeDecoder: ModelSession;
}

export interface InterpStageRequest {
  /** The base stage's frames, RGBA uint8 (what LaVie reads back from the base MP4). */
  input: readonly RgbaFrame[];
  plan: SamplerPlan;
  guidanceScale: number;
  /** Output latent video: frames = 4·input − 3. */
  latent: LatentShape;
  embeddings: DeviceTensor;
  /** Set when the UNet graph runs the CFG halves as two batch-1 calls (see denoise). */
  sequentialCfg?: { uncond: DeviceTensor; cond: DeviceTensor };
  scalingFactor: number;
  /** Stream 0 = initial latents; stream 1_000 + i = VAE posterior noise of input frame i. */
  noise(stream: number, count: number): Float32Array;
  previewEvery?: number;
}

export interface InterpStageHooks {
  signal: AbortSignal;
  onProgress(p: StageProgress): void;
  onPreview?(p: PreviewImage): void;
  onFrame?(f: RgbaFrame): Promise<void> | void;
}

/** Index of the original frame that conditions output frame j (LAVIE.md §8.2 step 3). */
export function conditionSource(j: number, inputFrames: number): number {
  return Math.min(inputFrames - 1, (j + 1) >> 2);
}

/** RGBA uint8 → [1,3,H,W] in [−1,1] as LaVie normalises frames read from the video. */
export function rgbaToImage(f: RgbaFrame): Float32Array {
  const hw = f.width * f.height;
  const out = new Float32Array(3 * hw);
  for (let i = 0; i < hw; i++) for (let ch = 0; ch < 3; ch++) out[ch * hw + i] = (f.rgba[4 * i + ch]! / 255 - 0.5) * 2;
  return out;
}

export const POSTERIOR_NOISE_STREAM = 1_000;

export async function runInterpStage(rt: Runtime, models: InterpStageModels, req: InterpStageRequest, hooks: InterpStageHooks): Promise<void> {
  const dev = rt.device;
  const { channels: c, frames: fOut, height: h, width: w } = req.latent;
  const nIn = req.input.length;
  if (fOut !== 4 * nIn - 3) throw new Error(`interpolation: ${nIn} input frames give ${4 * nIn - 3} frames, not ${fOut}`);
  const { width: W, height: H } = req.input[0]!;
  const hw = h * w;
  const scope = new TensorScope(dev);
  const alloc = (dims: number[]) => scope.alloc(dims);
  try {
    // 1. One posterior sample per input frame, × scaling factor.
    const img = alloc([1, 3, H, W]);
    const eps = alloc([1, c, h, w]);
    const lat = alloc([1, c, h, w]);
    const encoded: Float32Array[] = [];
    for (let i = 0; i < nIn; i++) {
      throwIfAborted(hooks.signal);
      dev.upload(img, rgbaToImage(req.input[i]!));
      dev.upload(eps, req.noise(POSTERIOR_NOISE_STREAM + i, c * hw));
      await models.vaeEncoder.run({ image: dev.asOrt(img), noise: dev.asOrt(eps) }, { latent_sample: lat });
      encoded.push(await dev.read(lat)); // once per input frame, before the loop
      hooks.onProgress({ phase: 'condition', step: i + 1, total: nIn });
    }

    // 2. The condition video [1,C,F',h,w], duplicated when the UNet takes the CFG batch at once.
    const cond = new Float32Array(c * fOut * hw);
    for (let j = 0; j < fOut; j++) {
      const src = encoded[conditionSource(j, nIn)]!;
      for (let ch = 0; ch < c; ch++) {
        const o = (ch * fOut + j) * hw;
        for (let i = 0; i < hw; i++) cond[o + i] = src[ch * hw + i]! * req.scalingFactor;
      }
    }
    const cond1 = alloc([1, c, fOut, h, w]);
    dev.upload(cond1, cond);
    let condIn = cond1;
    if (!req.sequentialCfg) {
      condIn = alloc([2, c, fOut, h, w]);
      dev.duplicate(condIn, cond1, 1);
    }

    // 3–4. Denoise, then decode.
    const x = alloc([1, c, fOut, h, w]);
    await denoise(rt, models.unet, x, { ...req, fixedInputs: { condition: condIn } }, hooks);
    await decodeFrames(rt, models.vaeDecoder, x, { latent: req.latent, scalingFactor: req.scalingFactor, image: { height: H, width: W } }, hooks);
  } finally {
    scope.dispose();
  }
}
