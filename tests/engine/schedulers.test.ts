// Samplers against diffusers 0.16 / LaVie's own diffusion code (fixtures/schedulers_*): timesteps
// exactly, schedules and single steps within float32 rounding.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { alphasCumprodF32, betasF32, LAVIE_BASE_SCHEDULE } from '../../src/engine/schedulers/alphas.ts';
import { createSampler, createVsrSampler, interpDdimPlan, lowResNoiseCoeffs } from '../../src/engine/schedulers/index.ts';
import { applyStep } from '../../src/engine/schedulers/plan.ts';
import { fixtureDir, fixtureTensors, maxAbsDiff } from '../helpers/fixtures.ts';

const STEP_TOL = 2e-6; // relative to max(1, max|ref|)
const rel = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  const { diff, refMax } = maxAbsDiff(a, b);
  return diff / Math.max(1, refMax);
};

test('base schedulers (DDPM, DDIM, Euler) match diffusers 0.16 as LaVie configures them', () => {
  const fx = fixtureTensors('schedulers_base', 'fixtures.safetensors');
  const cfg = JSON.parse(readFileSync(join(fixtureDir('schedulers_base'), 'config.json'), 'utf8'));
  const get = (k: string) => {
    const t = fx.get(k);
    assert.ok(t, `fixture tensor ${k}`);
    return t.read();
  };
  const ac = alphasCumprodF32(betasF32(LAVIE_BASE_SCHEDULE));
  const betaErr = rel(betasF32(LAVIE_BASE_SCHEDULE), get('ddpm.betas'));
  const acErr = rel(ac, get('ddpm.alphas_cumprod'));
  console.log(`betas rel err ${betaErr.toExponential(2)}, alphas_cumprod rel err ${acErr.toExponential(2)}`);
  assert.ok(betaErr < 1e-7 && acErr < 1e-6);

  const worst: Record<string, number> = {};
  for (const name of ['ddpm', 'ddim', 'euler'] as const) {
    for (const n of [50, 25]) {
      const plan = createSampler(name, n);
      const tsRef = cfg[`${name}.n${n}.timesteps`] as number[];
      const ts = plan.steps.map((s) => s.t);
      if (name === 'euler') assert.ok(rel(ts, tsRef) < 1e-12, `${name} n${n} timesteps`);
      else assert.deepEqual(ts, tsRef, `${name} n${n} timesteps`);
      assert.ok(Math.abs(plan.initNoiseSigma - cfg[`${name}.n${n}.init_noise_sigma`]) <= 1e-5 * cfg[`${name}.n${n}.init_noise_sigma`]);
      if (name === 'euler') assert.ok(rel(plan.steps.map((s) => s.t), get(`euler.n${n}.timesteps`)) < 1e-6);
      for (const idx of [0, n / 2, n - 1]) {
        const p = `${name}.n${n}.step_idx${idx}`;
        if (!fx.has(`${p}.sample`)) continue;
        const s = plan.steps[idx]!;
        const x = get(`${p}.sample`);
        const m = get(`${p}.model_output_eps`);
        const z = name === 'ddpm' && fx.has(`${p}.variance_noise`) ? get(`${p}.variance_noise`) : undefined;
        const { prev, x0 } = applyStep(s, x, m, z);
        const scaled = x.map((v) => v * s.inputScale);
        const errs = [rel(prev, get(`${p}.prev_sample`)), rel(x0, get(`${p}.pred_original_sample`)), rel(scaled, get(`${p}.scaled_model_input`))];
        if (name === 'ddpm' && cfg[`${p}.variance`] !== undefined) {
          const v = cfg[`${p}.variance`] as number;
          errs.push(Math.abs(s.noise * s.noise - v) / v);
        }
        worst[`${name}.n${n}`] = Math.max(worst[`${name}.n${n}`] ?? 0, ...errs);
        for (const e of errs) assert.ok(e <= STEP_TOL, `${p}: relative error ${e}`);
      }
    }
  }
  console.log('worst relative step error:', Object.fromEntries(Object.entries(worst).map(([k, v]) => [k, v.toExponential(2)])));
});

test('interpolation respaced DDIM matches interpolation/diffusion (timestep map, ᾱ, steps)', () => {
  const fx = fixtureTensors('schedulers_interp', 'fixtures.safetensors');
  for (const n of [50, 25]) {
    const plan = interpDdimPlan(n);
    assert.deepEqual(plan.timestepMap, Array.from(fx.get(`n${n}.timestep_map`)!.read()));
    // The F64 reference reaches us rounded to float32 (TensorRef.read()), hence 1e-7.
    assert.ok(rel(plan.alphasCumprod, fx.get(`n${n}.alphas_cumprod`)!.read()) < 1e-7);
    for (const idx of [n - 1, n / 2, 0]) {
      const p = `n${n}.step_idx${idx}`;
      if (!fx.has(`${p}.x`)) continue;
      // Respaced index idx is visited at loop position n−1−idx.
      const s = plan.steps[n - 1 - idx]!;
      assert.equal(s.t, fx.get(`${p}.model_timestep`)!.read()[0]);
      const { prev, x0 } = applyStep(s, fx.get(`${p}.x`)!.read(), fx.get(`${p}.model_output_eps`)!.read());
      assert.ok(rel(x0, fx.get(`${p}.pred_xstart`)!.read()) <= STEP_TOL, `${p} pred_xstart`);
      assert.ok(rel(prev, fx.get(`${p}.prev_sample`)!.read()) <= STEP_TOL, `${p} prev_sample`);
    }
  }
});

test('VSR DDIM (v-prediction) and low-res noise augmentation match diffusers', () => {
  const fx = fixtureTensors('schedulers_vsr', 'fixtures.safetensors');
  const cfg = JSON.parse(readFileSync(join(fixtureDir('schedulers_vsr'), 'config.json'), 'utf8'));
  for (const n of [50, 25]) {
    const plan = createVsrSampler(n);
    assert.deepEqual(plan.steps.map((s) => s.t), Array.from(fx.get(`ddim.n${n}.timesteps`)!.read()));
    for (const idx of [0, n / 2, n - 1]) {
      const p = `ddim.n${n}.step_idx${idx}`;
      if (!fx.has(`${p}.sample`)) continue;
      const { prev, x0 } = applyStep(plan.steps[idx]!, fx.get(`${p}.sample`)!.read(), fx.get(`${p}.model_output_v`)!.read());
      assert.ok(rel(x0, fx.get(`${p}.pred_original_sample`)!.read()) <= STEP_TOL, `${p} x0`);
      assert.ok(rel(prev, fx.get(`${p}.prev_sample`)!.read()) <= STEP_TOL, `${p} prev`);
    }
  }
  const lowAc = [...fx.keys()].find((k) => k.startsWith('low_res') && k.endsWith('alphas_cumprod'));
  assert.ok(lowAc, 'low-res schedule recorded');
  const ref = fx.get(lowAc)!.read();
  for (const level of [20, 50, 100, 350]) {
    const { a, b } = lowResNoiseCoeffs(level);
    assert.ok(Math.abs(a * a - ref[level]!) < 1e-6, `level ${level}`);
    assert.ok(Math.abs(b * b - (1 - ref[level]!)) < 1e-6);
  }
  assert.ok(cfg, 'config present');
});
