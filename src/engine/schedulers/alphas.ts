// Noise schedules as diffusers 0.16 / torch compute them in float32 (LAVIE.md §8): betas from a
// float32 linspace, ᾱ as a float32 running product. Matching the reference's rounding keeps our
// coefficients within an ulp of the official ones.
const f = Math.fround;

/** torch.linspace(start, end, n, dtype=float32): first half from the start, second half from the end. */
export function linspaceF32(start: number, end: number, n: number): Float32Array {
  const out = new Float32Array(n);
  if (n === 1) {
    out[0] = start;
    return out;
  }
  const s = f(start);
  const e = f(end);
  const step = f((e - s) / (n - 1));
  const half = Math.floor(n / 2);
  for (let i = 0; i < n; i++) out[i] = i < half ? f(s + f(step * i)) : f(e - f(step * (n - 1 - i)));
  return out;
}

export type BetaSchedule = 'linear' | 'scaled_linear';

export interface ScheduleConfig {
  numTrainTimesteps: number;
  betaStart: number;
  betaEnd: number;
  betaSchedule: BetaSchedule;
}

export const LAVIE_BASE_SCHEDULE: ScheduleConfig = { numTrainTimesteps: 1000, betaStart: 1e-4, betaEnd: 0.02, betaSchedule: 'linear' };

export function betasF32(c: ScheduleConfig): Float32Array {
  if (c.betaSchedule === 'linear') return linspaceF32(c.betaStart, c.betaEnd, c.numTrainTimesteps);
  const r = linspaceF32(Math.sqrt(c.betaStart), Math.sqrt(c.betaEnd), c.numTrainTimesteps);
  return r.map((x) => f(x * x));
}

/** ᾱ_t = Π_{s≤t} (1 − β_s), accumulated in float32 like torch.cumprod. */
export function alphasCumprodF32(betas: Float32Array): Float32Array {
  const out = new Float32Array(betas.length);
  let acc = 1;
  for (let i = 0; i < betas.length; i++) {
    acc = f(acc * f(1 - betas[i]!));
    out[i] = acc;
  }
  return out;
}
