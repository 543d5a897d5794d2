// Stage 1 of LaVie: text embeddings → denoised latent video → decoded frames (LAVIE.md §8.1).
// Everything between the first noise and the last frame stays on the device: per step the UNet
// reads the CFG batch we prepared and writes ε into our buffer; one kernel applies guidance and
// the sampler update. The only host→device traffic per step is the timestep (4 bytes) and, for
// DDPM, that step's noise; the only device→host traffic is the optional preview.
import type { ProgressInfo } from '../../protocol.ts';
import type { DeviceTensor } from '../runtime/device.ts';
import type { ModelSession, Runtime } from '../runtime/runtime.ts';
import type { PreviewImage, RgbaFrame } from '../types.ts';
import type { SamplerPlan } from '../schedulers/plan.ts';
import { latentPreview } from './preview.ts';


export interface LatentShape {
  channels: number;
  frames: number;
  height: number;
  width: number;
}

export interface BaseStageModels {
  /** inputs sample [2,C,F,h,w], timestep [1], encoder_hidden_states [2,L,D]; output out [2,C,F,h,w]. */
  unet: ModelSession;
  /** input latent [1,C,h,w]; output decoded [1,3,H,W]. */
  vaeDecoder: ModelSession;
}

export interface BaseStageRequest {
  plan: SamplerPlan;
  guidanceScale: number;
  latent: LatentShape;
  /** Text embeddings [2, L, D] on the device, batch order [uncond, cond] (LaVie's). */
  embeddings: DeviceTensor;
  /** N(0,1) noise for stream k (0 = initial latents, k ≥ 1 = step k−1). */
  noise(stream: number, count: number): Float32Array;
  /** VAE scaling factor (0.18215 for SD-1.4). */
  scalingFactor: number;
  /** Image size produced by the VAE decoder. */
  image: { height: number; width: number };
  previewEvery?: number;
}

export interface BaseStageHooks {
  signal: AbortSignal;
  onProgress(p: ProgressInfo): void;
  onPreview?(p: PreviewImage): void;
  onFrame?(f: RgbaFrame): Promise<void> | void;
  /** Called with the final latents before decoding (tests compare them with the reference). */
  onLatents?(x: DeviceTensor): Promise<void> | void;
  /** Called after each step (tests read intermediate latents). */
  onStep?(k: number, x: DeviceTensor): Promise<void> | void;
}

export class CancelledError extends Error {
  constructor() {
    super('Generation cancelled');
    this.name = 'CancelledError';
  }
}

export function throwIfAborted(signal: AbortSignal): void {
  if (signal.aborted) throw new CancelledError();
}

/** Denoise, then decode frame by frame. Returns the final latents' owner-freed state. */
export async function runBaseStage(rt: Runtime, models: BaseStageModels, req: BaseStageRequest, hooks: BaseStageHooks): Promise<void> {
  const dev = rt.device;
  const { channels: c, frames: f, height: h, width: w } = req.latent;
  const n = c * f * h * w;
  const start = performance.now();
  const steps = req.plan.steps;
  const owned: DeviceTensor[] = [];
  const alloc = (dims: number[]) => {
    const t = dev.alloc(dims);
    owned.push(t);
    return t;
  };
  try {
    const x = alloc([1, c, f, h, w]);
    const modelIn = alloc([2, c, f, h, w]);
    const eps2 = alloc([2, c, f, h, w]);
    const z = steps.some((s) => s.noise !== 0) ? alloc([1, c, f, h, w]) : null;

    const init = req.noise(0, n);
    if (req.plan.initNoiseSigma !== 1) for (let i = 0; i < n; i++) init[i] = init[i]! * req.plan.initNoiseSigma;
    dev.upload(x, init);

    const embOrt = dev.asOrt(req.embeddings);
    const stepTimes: number[] = [];
    for (let k = 0; k < steps.length; k++) {
      throwIfAborted(hooks.signal);
      const s = steps[k]!;
      const t0 = performance.now();
      dev.duplicate(modelIn, x, s.inputScale);
      await models.unet.run(
        { sample: dev.asOrt(modelIn), timestep: new rt.ort.Tensor('float32', Float32Array.of(s.t), [1]), encoder_hidden_states: embOrt },
        { out: eps2 },
      );
      const noisy = s.noise !== 0 && z !== null;
      if (noisy) dev.upload(z, req.noise(k + 1, n));
      dev.guidedUpdate(x, x, eps2, noisy ? z : null, { g: req.guidanceScale, a: s.update.x, b: s.update.out, c: s.noise });
      await hooks.onStep?.(k, x);
      if (hooks.onPreview && req.previewEvery && ((k + 1) % req.previewEvery === 0 || k === steps.length - 1)) {
        hooks.onPreview({ step: k + 1, ...latentPreview(await dev.read(x), req.latent) });
      }
      stepTimes.push(performance.now() - t0);
      const mean = stepTimes.reduce((a, b) => a + b, 0) / stepTimes.length;
      hooks.onProgress({ phase: 'denoise', step: k + 1, total: steps.length, elapsedMs: performance.now() - start, etaMs: mean * (steps.length - k - 1) });
    }
    await hooks.onLatents?.(x);

    // Decode frame by frame: a whole-video batch would need F times the VAE's activations.
    const zFrame = alloc([1, c, h, w]);
    const img = alloc([1, 3, req.image.height, req.image.width]);
    const decodeStart = performance.now();
    for (let fi = 0; fi < f; fi++) {
      throwIfAborted(hooks.signal);
      dev.extractFrame(zFrame, x, fi, 1 / req.scalingFactor);
      await models.vaeDecoder.run({ latent: dev.asOrt(zFrame) }, { decoded: img });
      const rgba = await dev.toRgba(img);
      await hooks.onFrame?.({ index: fi, width: req.image.width, height: req.image.height, rgba });
      const per = (performance.now() - decodeStart) / (fi + 1);
      hooks.onProgress({ phase: 'decode', step: fi + 1, total: f, elapsedMs: performance.now() - start, etaMs: per * (f - fi - 1) });
    }
  } finally {
    for (const t of owned) dev.free(t);
  }
}
