// diffusers 0.16 DDPM, DDIM and EulerDiscrete as LaVie's base stage builds them (LAVIE.md §8.1),
// and DDIM with v-prediction for VSR (§8.3), in the linear form of plan.ts.
import { alphasCumprodF32, betasF32, type ScheduleConfig } from './alphas.ts';
import { roundHalfEven } from './interp-ddim.ts';
import type { LinearCoeffs, SamplerPlan, SamplerStep } from './plan.ts';

const sqrt = Math.sqrt;

/** DDPM, variance "fixed_small": 1000/N-spaced timesteps 980…0 (steps_offset ignored). */
export function ddpmPlan(cfg: ScheduleConfig, n: number): SamplerPlan {
  const ac = alphasCumprodF32(betasF32(cfg));
  const ratio = Math.floor(cfg.numTrainTimesteps / n);
  const steps: SamplerStep[] = [];
  for (let k = n - 1; k >= 0; k--) {
    const t = k * ratio;
    const prevT = t - ratio;
    const a = ac[t]!;
    const ap = prevT >= 0 ? ac[prevT]! : 1;
    const b = 1 - a;
    const bp = 1 - ap;
    const curA = a / ap;
    const curB = 1 - curA;
    const x0 = { x: 1 / sqrt(a), out: -sqrt(b) / sqrt(a) };
    const c0 = (sqrt(ap) * curB) / b; // coefficient of x̂0
    const cx = (sqrt(curA) * bp) / b; // coefficient of x
    const variance = t > 0 ? Math.max(1e-20, (bp / b) * curB) : 0;
    steps.push({ t, inputScale: 1, x0, update: { x: c0 * x0.x + cx, out: c0 * x0.out }, noise: sqrt(variance) });
  }
  return { name: 'ddpm', prediction: 'epsilon', initNoiseSigma: 1, steps };
}

/** DDPM σ² at each step (for tests against the recorded `variance`). */
export function ddpmVariance(step: SamplerStep): number {
  return step.noise * step.noise;
}

export interface DdimOptions { stepsOffset?: number; setAlphaToOne?: boolean; prediction?: 'epsilon' | 'v' }

/** DDIM, η = 0 (deterministic). LaVie base: steps_offset 1, set_alpha_to_one false → 981…1. */
export function ddimPlan(cfg: ScheduleConfig, n: number, o: DdimOptions = {}): SamplerPlan {
  const ac = alphasCumprodF32(betasF32(cfg));
  const ratio = Math.floor(cfg.numTrainTimesteps / n);
  const offset = o.stepsOffset ?? 1;
  const finalAlpha = o.setAlphaToOne ? 1 : ac[0]!;
  const pred = o.prediction ?? 'epsilon';
  const steps: SamplerStep[] = [];
  for (let k = n - 1; k >= 0; k--) {
    const t = k * ratio + offset;
    const prevT = t - ratio;
    const a = ac[t]!;
    const ap = prevT >= 0 ? ac[prevT]! : finalAlpha;
    let x0: LinearCoeffs;
    let eps: LinearCoeffs;
    if (pred === 'epsilon') {
      x0 = { x: 1 / sqrt(a), out: -sqrt(1 - a) / sqrt(a) };
      eps = { x: 0, out: 1 };
    } else {
      x0 = { x: sqrt(a), out: -sqrt(1 - a) };
      eps = { x: sqrt(1 - a), out: sqrt(a) };
    }
    const update = { x: sqrt(ap) * x0.x + sqrt(1 - ap) * eps.x, out: sqrt(ap) * x0.out + sqrt(1 - ap) * eps.out };
    steps.push({ t, inputScale: 1, x0, update, noise: 0 });
  }
  return { name: 'ddim', prediction: pred, initNoiseSigma: 1, steps };
}

/** EulerDiscrete (s_churn 0): float timesteps linspace(0, 999, N) reversed; σ-space Euler steps. */
export function eulerPlan(cfg: ScheduleConfig, n: number): SamplerPlan {
  const ac = alphasCumprodF32(betasF32(cfg));
  const T = cfg.numTrainTimesteps;
  const base = Float32Array.from(ac, (a) => Math.sqrt(Math.fround(Math.fround(1 - a) / a)));
  const ts: number[] = [];
  // numpy.linspace: i·step, with the last point exactly at the end.
  const step = n === 1 ? 0 : (T - 1) / (n - 1);
  for (let i = 0; i < n; i++) ts.push(i === n - 1 && n > 1 ? T - 1 : i * step);
  ts.reverse();
  const sig = ts.map((t) => {
    const lo = Math.floor(t);
    const hi = Math.min(lo + 1, T - 1);
    const w = t - lo;
    return Math.fround(base[lo]! + (base[hi]! - base[lo]!) * w);
  });
  sig.push(0);
  const steps: SamplerStep[] = ts.map((t, i) => {
    const s = sig[i]!;
    const sn = sig[i + 1]!;
    return { t, inputScale: 1 / Math.sqrt(s * s + 1), x0: { x: 1, out: -s }, update: { x: 1, out: sn - s }, noise: 0 };
  });
  return { name: 'euler', prediction: 'epsilon', initNoiseSigma: Math.max(...sig), steps };
}

/**
 * DPM-Solver++ (2M), data prediction, as diffusers' DPMSolverMultistepScheduler (solver_order 2,
 * midpoint): timesteps linspace(0, T−1, N+1) rounded, reversed, last dropped. One deliberate
 * difference: the final step (t = 1000/N → 0) is first order at every step count (diffusers does it
 * only below 15 steps); its second-order jump there costs accuracy at 20–25 steps (tests: Gaussian model). Step k uses x̂0 of step k−1 through `prevX0` (the loop keeps it on the device):
 *   x_t = (σ_t/σ_s)·x − α_t(e^{−h}−1)·(1 + 1/(2r))·x̂0_s + α_t(e^{−h}−1)/(2r)·x̂0_prev.
 */
export function dpmSolverPlan(cfg: ScheduleConfig, n: number): SamplerPlan {
  const ac = alphasCumprodF32(betasF32(cfg));
  const T = cfg.numTrainTimesteps;
  const ts = Array.from({ length: n + 1 }, (_, i) => roundHalfEven((i * (T - 1)) / n)).reverse().slice(0, n); // numpy round
  const alpha = (t: number) => (t < 0 ? 1 : sqrt(ac[t]!));
  const sigma = (t: number) => (t < 0 ? 0 : sqrt(1 - ac[t]!));
  const lambda = (t: number) => Math.log(alpha(t)) - Math.log(sigma(t));
  const lowerFinal = true; // see above
  const steps: SamplerStep[] = ts.map((t, k) => {
    const next = k + 1 < n ? ts[k + 1]! : -1; // the last step goes to t = 0's clean sample
    const x0 = { x: 1 / alpha(t), out: -sigma(t) / alpha(t) };
    const aN = alpha(next === -1 ? 0 : next);
    const sN = sigma(next === -1 ? 0 : next);
    const h = lambda(next === -1 ? 0 : next) - lambda(t);
    const phi = Math.expm1(-h); // e^{−h} − 1
    const firstOrder = k === 0 || (lowerFinal && k === n - 1);
    let c0 = -aN * phi;
    let cPrev = 0;
    if (!firstOrder) {
      const r = (lambda(t) - lambda(ts[k - 1]!)) / h;
      c0 = -aN * phi * (1 + 1 / (2 * r));
      cPrev = aN * phi / (2 * r);
    }
    const ratio = sN / sigma(t);
    return { t, inputScale: 1, x0, update: { x: ratio + c0 * x0.x, out: c0 * x0.out }, noise: 0, prevX0: cPrev };
  });
  return { name: 'dpm++2m', prediction: 'epsilon', initNoiseSigma: 1, steps };
}
