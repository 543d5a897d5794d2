// LaVie at full size (graphs built without weights, bench/fullsize-manifest.ts): every option meets
// the issue's target under the engine's own schedule (the release rule replayed over the stages'
// phases, as npm run bench:memory prints it), the schedule releases what the VSR stage needs in the
// stated order, and the fit decision per option and GPU memory setting.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fullSizeManifest } from '../../bench/fullsize-manifest.ts';
import { LAVIE_OPTIONS, memoryPlan, optionPeaks, scheduleAfterLoad } from '../../src/engine/stages/memory.ts';
import { probeRequest } from '../../src/engine/stages/plan.ts';
import type { ComputePrecision } from '../../src/protocol.ts';

const m = fullSizeManifest();
const TARGET: Record<ComputePrecision, number> = { fp16: 6e9, fp32: 8e9 };
const option = (o: (typeof LAVIE_OPTIONS)[number]) => probeRequest(m, { interpolate: o.interpolate, superResolve: o.superResolve });

test('every LaVie option peaks within 6 GB on fp16 compute and 8 GB on fp32 compute with the engine\'s schedule', () => {
  for (const compute of ['fp16', 'fp32'] as const) {
    for (const o of LAVIE_OPTIONS) {
      const phases = scheduleAfterLoad(m, option(o), compute, TARGET[compute]);
      const peak = Math.max(...phases.map((p) => p.peakBytes));
      assert.ok(peak <= TARGET[compute], `option ${o.option} ${compute}: ${(peak / 1e9).toFixed(2)} GB`);
      // Without releases options 3 and 4 would not fit: the schedule is what makes them.
      if (o.superResolve) assert.ok(memoryPlan(m, option(o), compute, TARGET[compute]).keptBytes > TARGET[compute]);
    }
  }
});

test('option 4: the x4 text encoder and the earlier stages released before the VSR UNet loads, the 8-frame UNet before the tail graph', () => {
  for (const compute of ['fp16', 'fp32'] as const) {
    const phases = scheduleAfterLoad(m, option(LAVIE_OPTIONS[3]!), compute, TARGET[compute]);
    assert.deepEqual(phases.map((p) => p.phase), ['base', 'interp', 'vsr-text', 'vsr-vsr_unet', 'vsr-vsr_unet_f5']);
    const [, , text, unet, tail] = phases;
    assert.deepEqual(text!.created, ['text:vsr']);
    assert.deepEqual(unet!.created, ['vsr_unet', 'vsr_vae_decoder']);
    for (const k of ['text:vsr', 'interp_unet']) assert.ok(unet!.released.includes(k), `${compute}: ${k} released before vsr_unet (${unet!.released})`);
    assert.ok(!unet!.live.includes('text:vsr') && !unet!.live.includes('interp_unet'));
    assert.deepEqual(tail!.released, ['vsr_unet']);
    assert.deepEqual(tail!.created, ['vsr_unet_f5']);
  }
});

test('the fit decision per option and GPU memory setting (lowest peaks: every release the rule may make)', () => {
  const fits = (compute: ComputePrecision, gb: number) => LAVIE_OPTIONS.map((o) => memoryPlan(m, option(o), compute, gb * 1e9).fits);
  assert.deepEqual(fits('fp16', 6), [true, true, true, true]);
  assert.deepEqual(fits('fp32', 8), [true, true, true, true]);
  assert.deepEqual(fits('fp32', 4), [false, false, false, false]);
  assert.equal(memoryPlan(m, option(LAVIE_OPTIONS[3]!), 'fp32', 4e9).instead, null, 'nothing to pick instead below the base stage');
  // Between the base stage and interpolation's: option 4 falls back to the base video.
  const peaks = optionPeaks(m, probeRequest(m), 'fp16');
  const between = (peaks.find((p) => p.option === 1)!.peakBytes + peaks.find((p) => p.option === 2)!.peakBytes) / 2;
  const plan = memoryPlan(m, option(LAVIE_OPTIONS[3]!), 'fp16', between);
  assert.equal(plan.fits, false);
  assert.equal(plan.instead?.option, 1);
});
