// Every sampler is expressed in one linear form so that a single GPU kernel can run any of them:
//   model input = inputScale·x;  x_next = x·x + out·m + noise·z
// where m is the (CFG-combined) model output — ε, or v for v-prediction — and z ~ N(0,1).
// Coefficients are computed on the CPU in float64 from float32 schedules; the tensors never leave
// the device.

export interface LinearCoeffs {
  /** coefficient of the current sample */
  x: number;
  /** coefficient of the model output (ε or v) */
  out: number;
}

export interface SamplerStep {
  /** Timestep the model receives (integer for DDPM/DDIM, float for Euler). */
  t: number;
  /** The model sees inputScale·x (Euler: 1/√(σ²+1); else 1). */
  inputScale: number;
  /** x_next = update.x·x + update.out·m + noise·z */
  update: LinearCoeffs;
  /** Coefficient of fresh N(0,1) noise (0: none drawn). */
  noise: number;
  /** Predicted clean sample x̂0 = x0.x·x + x0.out·m (previews, tests; multistep samplers). */
  x0: LinearCoeffs;
  /** Multistep samplers (DPM-Solver++ 2M): coefficient of the previous step's x̂0 (0 or absent: none). */
  prevX0?: number;
}

export interface SamplerPlan {
  name: string;
  prediction: 'epsilon' | 'v';
  /** Multiplies the initial N(0,1) latents. */
  initNoiseSigma: number;
  steps: SamplerStep[];
}

/** CPU reference of one step (tests; the WGSL kernel computes the same). */
export function applyStep(s: SamplerStep, x: Float32Array, m: Float32Array, z?: Float32Array): { prev: Float32Array; x0: Float32Array } {
  const prev = new Float32Array(x.length);
  const x0 = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) {
    prev[i] = s.update.x * x[i]! + s.update.out * m[i]! + (s.noise && z ? s.noise * z[i]! : 0);
    x0[i] = s.x0.x * x[i]! + s.x0.out * m[i]!;
  }
  return { prev, x0 };
}
