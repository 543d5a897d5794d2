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

test('DPM-Solver++ (2M): diffusers timesteps, and exact on a point-mass model (like DDIM), first and second order', async () => {
  const { dpmSolverPlan } = await import('../../src/engine/schedulers/diffusers.ts');
  const { LAVIE_BASE_SCHEDULE, alphasCumprodF32, betasF32 } = await import('../../src/engine/schedulers/alphas.ts');
  const plan = dpmSolverPlan(LAVIE_BASE_SCHEDULE, 20);
  assert.deepEqual(plan.steps.slice(0, 4).map((s) => s.t), [999, 949, 899, 849]);
  assert.equal(plan.steps.at(-1)!.t, 50);
  assert.equal(plan.steps[0]!.prevX0, 0, 'first step is first order');
  assert.ok(plan.steps.slice(1, -1).every((s) => s.prevX0 !== 0), 'second order in between');
  assert.equal(plan.steps.at(-1)!.prevX0, 0, 'final step first order');
  // Point mass at c: the exact ε(x, t) = (x − α_t c)/σ_t; every x̂0 = c and the probability-flow ODE
  // keeps ε constant, so the solver must land exactly on α_0·c + σ_0·ε_T (diffusers stops at t = 0).
  const ac = alphasCumprodF32(betasF32(LAVIE_BASE_SCHEDULE));
  for (const n of [8, 20, 25]) {
    const p = dpmSolverPlan(LAVIE_BASE_SCHEDULE, n);
    const c = 0.7;
    let x = 1.3; // any start
    const eps0 = (x - Math.sqrt(ac[p.steps[0]!.t]!) * c) / Math.sqrt(1 - ac[p.steps[0]!.t]!);
    let x0Prev = 0;
    for (const s of p.steps) {
      const a = Math.sqrt(ac[s.t]!);
      const sg = Math.sqrt(1 - ac[s.t]!);
      const eps = (x - a * c) / sg;
      const x0 = s.x0.x * x + s.x0.out * eps;
      assert.ok(Math.abs(x0 - c) < 1e-9);
      x = s.update.x * x + s.update.out * eps + (s.prevX0 ?? 0) * x0Prev;
      x0Prev = x0;
    }
    const want = Math.sqrt(ac[0]!) * c + Math.sqrt(1 - ac[0]!) * eps0;
    assert.ok(Math.abs(x - want) < 1e-6, `n=${n}: ended at ${x}, exact ${want}`);
  }
});

test('on a Gaussian data model (exact x̂0 known) DPM-Solver++ 2M at 20 steps lands closer to the exact ODE solution than DDIM at 20', async () => {
  const { dpmSolverPlan, ddimPlan } = await import('../../src/engine/schedulers/diffusers.ts');
  const { LAVIE_BASE_SCHEDULE, alphasCumprodF32, betasF32 } = await import('../../src/engine/schedulers/alphas.ts');
  const ac = alphasCumprodF32(betasF32(LAVIE_BASE_SCHEDULE));
  const mu = 0.4;
  const s2 = 0.25; // data ~ N(μ, s²)
  const stats = (t: number) => ({ a: Math.sqrt(ac[t]!), sg: Math.sqrt(1 - ac[t]!) });
  const epsOf = (x: number, t: number) => {
    const { a, sg } = stats(t);
    const x0 = mu + ((a * s2) / (a * a * s2 + sg * sg)) * (x - a * mu); // E[x0 | x_t]
    return (x - a * x0) / sg;
  };
  const solve = (plan: ReturnType<typeof ddimPlan>, xT: number) => {
    let x = xT;
    let x0Prev = 0;
    for (const st of plan.steps) {
      const e = epsOf(x, st.t);
      const x0 = st.x0.x * x + st.x0.out * e;
      x = st.update.x * x + st.update.out * e + (st.prevX0 ?? 0) * x0Prev;
      x0Prev = x0;
    }
    return x;
  };
  // Exact flow: the standardised value (x_t − α_t μ)/√(α_t² s² + σ_t²) is constant along the ODE.
  const exact = (xT: number, tFrom: number, tTo: number) => {
    const f = stats(tFrom);
    const g = stats(tTo);
    const z = (xT - f.a * mu) / Math.sqrt(f.a * f.a * s2 + f.sg * f.sg);
    return g.a * mu + z * Math.sqrt(g.a * g.a * s2 + g.sg * g.sg);
  };
  const dpm = dpmSolverPlan(LAVIE_BASE_SCHEDULE, 20);
  const ddim = ddimPlan(LAVIE_BASE_SCHEDULE, 20, { stepsOffset: 1, setAlphaToOne: false });
  let errDpm = 0;
  let errDdim = 0;
  for (const xT of [-2, -0.5, 0.3, 1.7]) {
    errDpm = Math.max(errDpm, Math.abs(solve(dpm, xT) - exact(xT, dpm.steps[0]!.t, 0)));
    errDdim = Math.max(errDdim, Math.abs(solve(ddim, xT) - exact(xT, ddim.steps[0]!.t, 0)));
  }
  console.log(`Gaussian model, 20 steps: |DPM-Solver++ 2M − exact| ${errDpm.toExponential(2)}, |DDIM − exact| ${errDdim.toExponential(2)}`);
  assert.ok(errDpm < errDdim / 3, `${errDpm} vs ${errDdim}`);
});
