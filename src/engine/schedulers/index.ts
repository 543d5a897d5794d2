// Samplers users can choose for the base stage, plus the fixed ones of the later stages.
import { LAVIE_BASE_SCHEDULE, alphasCumprodF32, betasF32, type ScheduleConfig } from './alphas.ts';
import { ddimPlan, ddpmPlan, dpmSolverPlan, eulerPlan } from './diffusers.ts';
import type { SamplerPlan } from './plan.ts';

export type { SamplerPlan, SamplerStep, LinearCoeffs } from './plan.ts';
export type BaseSamplerName = 'ddpm' | 'ddim' | 'euler' | 'dpm++2m';

/** A base-stage sampler as LaVie's base/pipelines/sample.py builds it (linear betas 1e-4…0.02). */
export function createSampler(name: BaseSamplerName, steps: number, schedule: ScheduleConfig = LAVIE_BASE_SCHEDULE): SamplerPlan {
  if (!Number.isInteger(steps) || steps < 1 || steps > schedule.numTrainTimesteps) throw new RangeError(`steps must be an integer in 1..${schedule.numTrainTimesteps}`);
  switch (name) {
    case 'ddpm': return ddpmPlan(schedule, steps);
    case 'ddim': return ddimPlan(schedule, steps, { stepsOffset: 1, setAlphaToOne: false });
    case 'euler': return eulerPlan(schedule, steps);
    case 'dpm++2m': return dpmSolverPlan(schedule, steps);
    default: throw new RangeError(`unknown sampler ${String(name)}`);
  }
}

/** VSR DDIM (v-prediction; the x4 config with beta_schedule forced to linear). */
export function createVsrSampler(steps: number): SamplerPlan {
  return ddimPlan(LAVIE_BASE_SCHEDULE, steps, { stepsOffset: 1, setAlphaToOne: false, prediction: 'v' });
}

/** VSR low-res augmentation: noised = a·image + b·noise at `level` (x4 low_res_scheduler, scaled_linear). */
export function lowResNoiseCoeffs(level: number): { a: number; b: number } {
  const ac = alphasCumprodF32(betasF32({ numTrainTimesteps: 1000, betaStart: 1e-4, betaEnd: 0.02, betaSchedule: 'scaled_linear' }));
  const a = ac[level]!;
  return { a: Math.sqrt(a), b: Math.sqrt(1 - a) };
}

export { interpDdimPlan } from './interp-ddim.ts';
