import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BadRequestError, LIMITS } from '../../src/protocol.ts';
import { gaussianNoise } from '../../src/engine/noise.ts';

test('seeded noise is deterministic, sliceable and stream-separated', () => {
  const a = gaussianNoise(42, 0, 1001);
  assert.deepEqual(a, gaussianNoise(42, 0, 1001));
  assert.deepEqual(gaussianNoise(42, 0, 300, 501), a.subarray(501, 801), 'any slice equals the same range of the full stream');
  assert.notDeepEqual(gaussianNoise(42, 1, 1001), a);
  assert.notDeepEqual(gaussianNoise(43, 0, 1001), a);
});

test('seeded noise is standard normal', () => {
  const x = gaussianNoise(7, 3, 1_000_000);
  let s = 0;
  let s2 = 0;
  let s4 = 0;
  for (const v of x) {
    s += v;
    s2 += v * v;
    s4 += v ** 4;
  }
  const n = x.length;
  const mean = s / n;
  const variance = s2 / n - mean * mean;
  assert.ok(Math.abs(mean) < 0.005, `mean ${mean}`);
  assert.ok(Math.abs(variance - 1) < 0.005, `variance ${variance}`);
  assert.ok(Math.abs(s4 / n - 3) < 0.05, `kurtosis ${s4 / n}`);
});

test('golden values: the noise a seed gives never changes silently (browser and Node share them)', () => {
  const g = Array.from(gaussianNoise(1234, 0, 6), (v) => v.toFixed(6));
  assert.deepEqual(g, GOLDEN);
});

const GOLDEN = ["-1.554382","0.544675","-0.842175","-0.058023","0.648314","0.877509"];

test('a seed outside the request contract is refused, not wrapped onto another seed', () => {
  assert.throws(() => gaussianNoise(LIMITS.seed.max + 1, 0, 4), BadRequestError);
  assert.throws(() => gaussianNoise(-1, 0, 4), BadRequestError);
  assert.throws(() => gaussianNoise(0.5, 0, 4), BadRequestError);
  assert.equal(gaussianNoise(LIMITS.seed.max, 0, 4).length, 4);
});
