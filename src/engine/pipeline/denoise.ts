// The denoising loop every LaVie stage shares: x lives on the device; per step the UNet reads the
// CFG batch [s·x, s·x] we prepared (plus fixed extra inputs such as a condition video) and writes
// the guided-pair prediction into our buffer; one kernel applies guidance and the sampler update.
// Host→device per step: the timestep (4 bytes) and, for DDPM, that step's noise. Device→host:
// nothing but the optional preview.
import type * as ortTypes from 'onnxruntime-common';
import { TensorScope, type DeviceTensor } from '../runtime/device.ts';
import type { ModelSession, Runtime } from '../runtime/runtime.ts';
import type { SamplerPlan } from '../schedulers/plan.ts';
import type { PreviewImage } from '../types.ts';
import { latentPreview } from './preview.ts';
import { throwIfAborted, type LatentShape, type StageProgress } from './stage.ts';

export interface DenoiseRequest {
  plan: SamplerPlan;
  guidanceScale: number;
  latent: LatentShape;
  /** Text embeddings [2, L, D] on the device, batch order [uncond, cond]. */
  embeddings: DeviceTensor;
  /** N(0,1) noise for stream k (0 = initial latents, k ≥ 1 = step k−1). */
  noise(stream: number, count: number): Float32Array;
  /**
   * When the UNet graph takes batch 1 (its CFG batch would not fit the buffer bound), the two
   * halves of `embeddings` as separate [1, L, D] tensors: each step then runs the UNet twice.
   */
  sequentialCfg?: { uncond: DeviceTensor; cond: DeviceTensor };
  /** Inputs that stay fixed over the loop (e.g. the interpolation condition), already on the device. */
  fixedInputs?: Record<string, DeviceTensor>;
  /** Small fixed host inputs (e.g. VSR's int64 class labels). */
  hostInputs?: Record<string, ortTypes.Tensor>;
  previewEvery?: number;
}

export interface DenoiseHooks {
  signal: AbortSignal;
  onProgress(p: StageProgress): void;
  onPreview?(p: PreviewImage): void;
  /** Called after each step (tests read intermediate latents). */
  onStep?(k: number, x: DeviceTensor): Promise<void> | void;
}

/** Runs the whole sampler plan on `x` ([1,C,F,H,W], allocated by the caller) in place. */
export async function denoise(rt: Runtime, unet: ModelSession, x: DeviceTensor, req: DenoiseRequest, hooks: DenoiseHooks): Promise<void> {
  const dev = rt.device;
  const { channels: c, frames: f, height: h, width: w } = req.latent;
  const n = c * f * h * w;
  const steps = req.plan.steps;
  const scope = new TensorScope(dev);
  const alloc = (dims: number[]) => scope.alloc(dims);
  try {
    const seq = req.sequentialCfg;
    const modelIn = alloc([seq ? 1 : 2, c, f, h, w]);
    const out2 = seq ? null : alloc([2, c, f, h, w]);
    const outU = seq ? alloc([1, c, f, h, w]) : null;
    const outC = seq ? alloc([1, c, f, h, w]) : null;
    const z = steps.some((s) => s.noise !== 0) ? alloc([1, c, f, h, w]) : null;
    // Multistep samplers keep x̂0 of the previous step on the device.
    const multistep = steps.some((s) => s.prevX0);
    let x0Cur = multistep ? alloc([1, c, f, h, w]) : null;
    let x0Prev = multistep ? alloc([1, c, f, h, w]) : null;

    const init = req.noise(0, n);
    if (req.plan.initNoiseSigma !== 1) for (let i = 0; i < n; i++) init[i] = init[i]! * req.plan.initNoiseSigma;
    dev.upload(x, init);

    const fixed: Record<string, ReturnType<typeof dev.asOrt>> = {};
    for (const [k, t] of Object.entries(req.fixedInputs ?? {})) fixed[k] = dev.asOrt(t);
    Object.assign(fixed, req.hostInputs ?? {});
    const start = performance.now();
    for (let k = 0; k < steps.length; k++) {
      throwIfAborted(hooks.signal);
      const s = steps[k]!;
      const timestep = new rt.ort.Tensor('float32', Float32Array.of(s.t), [1]);
      const noisy = s.noise !== 0 && z !== null;
      const prev = s.prevX0 && x0Prev ? ([x0Prev, s.prevX0] as const) : null;
      const g = req.guidanceScale;
      if (seq && outU && outC) {
        // x ← a·x + b·(ε_u + g·(ε_c − ε_u)) + c·z (or + c′·x̂0_prev), as one 4-term combination.
        dev.linear(modelIn, [[x, s.inputScale]]);
        await unet.run({ ...fixed, sample: dev.asOrt(modelIn), timestep, encoder_hidden_states: dev.asOrt(seq.uncond) }, { out: outU });
        await unet.run({ ...fixed, sample: dev.asOrt(modelIn), timestep, encoder_hidden_states: dev.asOrt(seq.cond) }, { out: outC });
        if (noisy) dev.upload(z, req.noise(k + 1, n));
        if (x0Cur) dev.linear(x0Cur, [[x, s.x0.x], [outU, s.x0.out * (1 - g)], [outC, s.x0.out * g]]);
        dev.linear(x, [[x, s.update.x], [outU, s.update.out * (1 - g)], [outC, s.update.out * g], ...(noisy ? [[z, s.noise] as const] : prev ? [prev] : [])]);
      } else if (out2) {
        dev.duplicate(modelIn, x, s.inputScale);
        await unet.run({ ...fixed, sample: dev.asOrt(modelIn), timestep, encoder_hidden_states: dev.asOrt(req.embeddings) }, { out: out2 });
        if (noisy) dev.upload(z, req.noise(k + 1, n));
        if (x0Cur) dev.guidedUpdate(x0Cur, x, out2, null, { g, a: s.x0.x, b: s.x0.out, c: 0 });
        // The noise slot carries x̂0_prev for multistep samplers (they draw no noise).
        dev.guidedUpdate(x, x, out2, noisy ? z : prev ? prev[0] : null, { g, a: s.update.x, b: s.update.out, c: noisy ? s.noise : prev ? prev[1] : 0 });
      }
      if (x0Cur && x0Prev) [x0Cur, x0Prev] = [x0Prev, x0Cur];
      // On WebGPU run() resolves once the step is submitted: without this wait the loop runs steps
      // ahead of the GPU, so progress and the ETA count work not done yet, and a cancelled run leaves
      // those steps queued in front of the next run (seen: 97–139 s with no progress on SwiftShader).
      await dev.sync();
      await hooks.onStep?.(k, x);
      if (hooks.onPreview && req.previewEvery && ((k + 1) % req.previewEvery === 0 || k === steps.length - 1)) {
        hooks.onPreview({ step: k + 1, ...latentPreview(await dev.read(x), req.latent) });
      }
      const per = (performance.now() - start) / (k + 1);
      hooks.onProgress({ phase: 'denoise', step: k + 1, total: steps.length, etaMs: per * (steps.length - k - 1) });
    }
  } finally {
    scope.dispose();
  }
}
