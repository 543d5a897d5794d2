// The whole-job time estimate (src/app/eta.ts) on a fake clock: generations are replayed as the
// engine reports them (text, steps, decode, encode per stage), with a device whose true speed per
// phase the test chooses; the estimate is compared with the time the replay actually has left.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ANY, JobEstimator, estimatePlan, fraction, type Rates } from '../../src/app/eta.ts';
import type { ProgressInfo, StagePlan } from '../../src/protocol.ts';

const BASE: StagePlan = { stage: 'base', video: { frames: 16, width: 512, height: 320, fps: 8 }, cost: 60, work: { denoise: 50, decode: 10 } };
const INTERP: StagePlan = { stage: 'interp', video: { frames: 61, width: 512, height: 320, fps: 24 }, cost: 120, work: { condition: 8, denoise: 100, decode: 12 } };
const VSR: StagePlan = { stage: 'vsr', video: { frames: 61, width: 2048, height: 1280, fps: 24 }, cost: 800, work: { denoise: 700, decode: 100 } };

/** A device: true ms per unit of each stage.phase (text: per encoding; encode: per megapixel). */
type Device = (key: string) => number;

interface Step { at: number; p: ProgressInfo }

/** The events of one generation as the engine and worker send them, with their times on `device`. */
function replay(plan: StagePlan[], device: Device, steps: Record<string, number> = {}): { events: Step[]; end: number } {
  const events: Step[] = [];
  let t = 0;
  const send = (stage: StagePlan, p: Omit<ProgressInfo, 'elapsedMs' | 'stage'>) => events.push({ at: t, p: { ...p, stage: stage.stage, elapsedMs: t } });
  for (const s of plan) {
    const key = (ph: string) => `${s.stage}.${ph}`;
    send(s, { phase: 'text', step: 0, total: 1 });
    t += device(key('text'));
    send(s, { phase: 'text', step: 1, total: 1 });
    for (const phase of ['condition', 'denoise', 'decode'] as const) {
      const units = s.work[phase];
      if (!units) continue;
      const n = steps[key(phase)] ?? 10;
      for (let k = 1; k <= n; k++) {
        t += (device(key(phase)) * units) / n;
        send(s, { phase, step: k, total: n });
      }
    }
    send(s, { phase: 'encode', step: 0, total: 1 });
    t += device(key('encode')) * ((s.video.frames * s.video.width * s.video.height) / 1e6);
  }
  return { events, end: t };
}

/** Run the estimator over a replay; `check(estimate, actualRemaining)` at each event. */
function run(plan: StagePlan[], device: Device, remembered: Rates, check: (e: ReturnType<JobEstimator['estimate']>, left: number, at: number, end: number) => void): JobEstimator {
  let now = 0;
  const est = new JobEstimator(plan, remembered, () => now);
  const { events, end } = replay(plan, device);
  for (const { at, p } of events) {
    now = at;
    est.progress(p);
    check(est.estimate(), end - at, at, end);
  }
  now = end;
  est.finish();
  return est;
}

const uniform: Device = (k) => (k.endsWith('.text') ? 400 : k.endsWith('.encode') ? 100 : 1000);

test('a fresh device: no estimate before the first step, then one for the whole job, never 0:00 while work remains', () => {
  const seen: (number | null)[] = [];
  run([BASE], uniform, {}, (e, left) => {
    seen.push(e.remainingMs);
    if (left > 0) assert.ok(e.remainingMs === null || e.remainingMs >= 1000, `never under a second while ${left} ms remain`);
  });
  assert.equal(seen[0], null, 'nothing is known before any work was timed');
  assert.ok(seen.filter((s) => s !== null).length > 15);
});

test('the estimate covers every stage: at 25 % of a three-stage job it is within 1.3× of the time left (a fresh device)', () => {
  let checked = false;
  run([BASE, INTERP, VSR], uniform, {}, (e, left, at, end) => {
    if (!checked && at >= end * 0.25) {
      checked = true;
      assert.ok(e.remainingMs !== null);
      const ratio = e.remainingMs / left;
      assert.ok(ratio > 1 / 1.3 && ratio < 1.3, `estimate ${e.remainingMs} vs ${left} actually left`);
    }
  });
  assert.ok(checked);
});

test('remembered rates give the whole job before the run starts, per stage, and match a run at the same speed', () => {
  const first = run([BASE, VSR], uniform, {}, () => {});
  const rates = first.rates();
  assert.ok(Math.abs(rates['base.denoise']! - 1000) < 1e-6 && Math.abs(rates[ANY]! - 1000) < 1e-6, JSON.stringify(rates));
  const pre = estimatePlan([BASE, VSR], rates);
  const { end } = replay([BASE, VSR], uniform);
  assert.ok(pre.totalMs !== null && Math.abs(pre.totalMs - end) / end < 0.01, `${pre.totalMs} vs ${end}`);
  assert.deepEqual(pre.stages.map((s) => s.stage), ['base', 'vsr']);
  assert.ok(pre.stages[1]!.ms! > 10 * pre.stages[0]!.ms!, 'super-resolution dominates');
  // Nothing remembered: no estimate rather than a wrong one.
  assert.equal(estimatePlan([BASE, VSR], {}).totalMs, null);
  // The first check of the second run already sees the whole job.
  let firstEstimate: number | null = null;
  run([BASE, VSR], uniform, rates, (e) => { firstEstimate ??= e.remainingMs; });
  assert.ok(firstEstimate !== null && Math.abs(firstEstimate - end) / end < 0.02, `${firstEstimate} vs ${end}`);
});

test('a stage slower than its node count says: its remembered rate is used, not the base rate', () => {
  // VSR's UNet runs 3× slower per unit than the base UNet on this device.
  const device: Device = (k) => (k.startsWith('vsr.denoise') ? 3000 : uniform(k));
  const rates = run([BASE, VSR], device, {}, () => {}).rates();
  // Checked as the VSR stage starts (before it timed anything itself).
  const atVsr = (remembered: Rates) => {
    let ratio = 0;
    let now = 0;
    const est = new JobEstimator([BASE, VSR], remembered, () => now);
    const { events, end } = replay([BASE, VSR], device);
    for (const { at, p } of events) {
      now = at;
      est.progress(p);
      if (!ratio && p.stage === 'vsr') ratio = est.estimate().remainingMs! / (end - at);
    }
    return ratio;
  };
  assert.ok(Math.abs(atVsr(rates) - 1) < 0.05, `remembered: ratio ${atVsr(rates)}`);
  const naive = atVsr({});
  assert.ok(naive < 0.5, `naive ratio ${naive}`);
});

test('the device running slower than remembered: the estimate follows within the run', () => {
  const rates = run([BASE, VSR], uniform, {}, () => {}).rates();
  const slow: Device = (k) => 2 * uniform(k);
  let checked = false;
  run([BASE, VSR], slow, rates, (e, left, at, end) => {
    if (!checked && at >= end * 0.03) {
      checked = true;
      assert.ok(Math.abs(e.remainingMs! / left - 1) < 0.15, `${e.remainingMs} vs ${left}`);
    }
  });
  assert.ok(checked);
});

test('time passes between events: the estimate counts down, and a phase that outlasts it says it is stalled', () => {
  let now = 0;
  const est = new JobEstimator([BASE], { 'base.text': 400, 'base.denoise': 1000, 'base.decode': 1000, 'base.encode': 100, [ANY]: 1000 }, () => now);
  est.progress({ stage: 'base', phase: 'text', step: 0, total: 1, elapsedMs: 0 });
  const a = est.estimate().remainingMs!;
  now = 200;
  assert.ok(Math.abs(a - 200 - est.estimate().remainingMs!) < 1e-6, 'counts down with the clock');
  // Up to the video encoding. Once the prompt is encoded, the first step is what runs (not "Encoding prompt").
  now = 400;
  est.progress({ stage: 'base', phase: 'text', step: 1, total: 1, elapsedMs: now });
  assert.deepEqual([est.estimate().phase, est.estimate().starting], ['denoise', true]);
  now = 60_400;
  est.progress({ stage: 'base', phase: 'denoise', step: 10, total: 10, elapsedMs: now });
  est.progress({ stage: 'base', phase: 'decode', step: 16, total: 16, elapsedMs: now });
  est.progress({ stage: 'base', phase: 'encode', step: 0, total: 1, elapsedMs: now });
  assert.deepEqual({ ...est.estimate(), remainingMs: undefined }, { remainingMs: undefined, stage: 'base', phase: 'encode', stalled: false, starting: false });
  now += 60_000; // encoding 2.6 MP should take 0.26 s; a minute later it still runs
  const e = est.estimate();
  assert.equal(e.stalled, true);
  assert.equal(e.phase, 'encode');
  assert.equal(e.remainingMs, 1000, 'never 0:00 while work remains');
  now += 1;
  est.finish();
  assert.equal(est.estimate().remainingMs, 0);
});

test('networks loaded on first use (a phase the plan does not time) are not taken for text encoding', () => {
  let now = 0;
  const est = new JobEstimator([BASE, VSR], {}, () => now);
  est.progress({ stage: 'vsr', phase: 'load', step: 0, total: 1, elapsedMs: 0 });
  now = 50_000;
  est.progress({ stage: 'vsr', phase: 'text', step: 0, total: 1, elapsedMs: now });
  now = 50_500;
  est.progress({ stage: 'vsr', phase: 'denoise', step: 1, total: 10, elapsedMs: now });
  assert.equal(est.rates()['vsr.text'], undefined);
});

test('progress through VSR windows and tiles is one fraction of the phase', () => {
  assert.equal(fraction({ phase: 'denoise', step: 5, total: 10, window: 1, windows: 2, tile: 1, tiles: 2, elapsedMs: 0 }), 0.125);
  assert.equal(fraction({ phase: 'denoise', step: 10, total: 10, window: 2, windows: 2, tile: 2, tiles: 2, elapsedMs: 0 }), 1);
  assert.equal(fraction({ phase: 'decode', step: 4, total: 8, window: 2, windows: 2, elapsedMs: 0 }), 0.75);
  assert.equal(fraction({ phase: 'denoise', step: 3, total: 12, elapsedMs: 0 }), 0.25);
});
