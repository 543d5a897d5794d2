// The interpolation stage's own guided-diffusion DDIM (LAVIE.md §8.2): linear betas in float64,
// respaced to N steps by Python-`round` spacing, η = 0, ᾱ_prev = 1 after the last step, and the
// UNet receives the ORIGINAL timestep (999 … 0).
import type { SamplerPlan, SamplerStep } from './plan.ts';

/** Python's round(): halves go to the even neighbour. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** space_timesteps(T, "N") for one section: the kept original timesteps, ascending. */
export function spaceTimesteps(T: number, n: number): number[] {
  const stride = n > 1 ? (T - 1) / (n - 1) : 1;
  const out: number[] = [];
  let cur = 0;
  for (let i = 0; i < n; i++) {
    out.push(roundHalfEven(cur));
    cur += stride;
  }
  return [...new Set(out)].sort((a, b) => a - b);
}

/** ᾱ of the respaced process (float64), as the respaced GaussianDiffusion recomputes it. */
export function respacedAlphasCumprod(T: number, kept: number[]): number[] {
  const betas = Array.from({ length: T }, (_, i) => 1e-4 + ((0.02 - 1e-4) * i) / (T - 1));
  let acc = 1;
  const ac: number[] = [];
  for (const b of betas) ac.push((acc *= 1 - b));
  let last = 1;
  const newBetas: number[] = [];
  for (const t of kept) {
    newBetas.push(1 - ac[t]! / last);
    last = ac[t]!;
  }
  acc = 1;
  return newBetas.map((b) => (acc *= 1 - b));
}

export function interpDdimPlan(n: number, T = 1000): SamplerPlan & { timestepMap: number[]; alphasCumprod: number[] } {
  const kept = spaceTimesteps(T, n);
  const ac = respacedAlphasCumprod(T, kept);
  const steps: SamplerStep[] = [];
  for (let i = kept.length - 1; i >= 0; i--) {
    const a = ac[i]!;
    const ap = i > 0 ? ac[i - 1]! : 1;
    const x0 = { x: Math.sqrt(1 / a), out: -Math.sqrt(1 / a - 1) };
    steps.push({ t: kept[i]!, inputScale: 1, x0, update: { x: Math.sqrt(ap) * x0.x, out: Math.sqrt(ap) * x0.out + Math.sqrt(1 - ap) }, noise: 0 });
  }
  return { name: 'interp-ddim', prediction: 'epsilon', initNoiseSigma: 1, steps, timestepMap: kept, alphasCumprod: ac };
}
