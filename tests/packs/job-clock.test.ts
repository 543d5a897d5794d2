// The conversion job's clock (src/packs/convert-official.ts): one ETA for download, conversion and
// verification. Conversion reads in bursts between long synchronous stretches: its rate is measured
// since the phase began and blended with a prior, so the first seconds never promise hours.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { JobClock } from '../../src/packs/convert-official.ts';

test('conversion ETA: a slow first read does not make an ETA of hours; a steady rate takes over', () => {
  let t = 0;
  const clock = new JobClock({ download: 0, convert: 4.5e9, verify: 0 }, () => t);
  const prior = (4.5e9 / 25e6) * 1000; // 25 MB/s, the prior: 180 s
  assert.equal(clock.etaMs(), prior);
  // A checkpoint's first bytes, then 3 s of reading its index and unpickling (1 MB) before the
  // first tensor (a windowed rate said 0.33 MB/s here: an ETA of 3.7 hours).
  clock.advance('convert', 1e5);
  t = 3000;
  clock.advance('convert', 1e6);
  const early = clock.etaMs()!;
  assert.ok(early > prior * 0.9 && early < prior * 1.5, `${early} ms`);
  // Then 100 MB/s for two minutes: the ETA follows the measured rate.
  for (let k = 0; k < 120; k++) {
    t += 1000;
    clock.advance('convert', 1e8);
  }
  const left = 4.5e9 - 1.1e6 - 120 * 1e8; // bytes still to convert
  const eta = clock.etaMs()!;
  const measured = (left / 1e8) * 1000;
  assert.ok(Math.abs(eta - measured) / measured < 0.2, `${eta} ms vs ${measured} ms at the measured rate`);
});
