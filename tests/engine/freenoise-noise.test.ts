// FreeNoise noise rescheduling: the official rule with the fixture's permutations (bitwise), and
// our seeded permutations (deterministic, valid, pinned so Node and browser agree).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { readSafetensorsFile as readSafetensors } from '../../src/convert/cli/node-io.ts';
import { isWindowedLength, noisePermutations, rescheduleNoise, sourceFrames } from '../../src/engine/freenoise.ts';
import { fixtureDir } from '../helpers/fixtures.ts';

const dir = fixtureDir('freenoise_noise');
const inputs = readSafetensors(join(dir, 'inputs.safetensors'));
const outputs = readSafetensors(join(dir, 'outputs.safetensors'));
const perms = (name: string) => {
  const t = inputs.get(name)!;
  const flat = Array.from(t.read(), Number);
  return Array.from({ length: t.shape[0]! }, (_, b) => flat.slice(b * t.shape[1]!, (b + 1) * t.shape[1]!));
};

for (const prefix of ['', 'long.']) {
  test(`rescheduled noise equals freenoise_noise ${prefix || 'main.'}* bitwise, with its permutations`, () => {
    const noise = inputs.get(`${prefix}noise`)!;
    const perm = perms(`${prefix}perm`);
    const got = rescheduleNoise(noise.read(), noise.shape, perm);
    assert.deepEqual(got, outputs.get(`${prefix}rescheduled`)!.read());
    assert.deepEqual(sourceFrames(noise.shape[2]!, perm), Array.from(outputs.get(`${prefix}src_index`)!.read(), Number));
  });
}

test('seeded permutations: one per 4-frame block after frame 16, each a shuffle of the block 16 frames earlier, fixed by the seed', () => {
  assert.deepEqual(noisePermutations(7, 16), []);
  const p = noisePermutations(7, 64);
  assert.equal(p.length, 12);
  p.forEach((b, i) => assert.deepEqual([...b].sort((x, y) => x - y), [4 * i, 4 * i + 1, 4 * i + 2, 4 * i + 3]));
  assert.deepEqual(noisePermutations(7, 64), p);
  assert.deepEqual(noisePermutations(7, 24), p.slice(0, 2), 'a longer video extends, never reshuffles, a shorter one');
  assert.notDeepEqual(noisePermutations(8, 64), p);
  // Pinned values: the browser runs the same integer hashing (tests that change this change the videos).
  assert.deepEqual(p.slice(0, 3), PINNED);
  assert.throws(() => noisePermutations(7, 26), RangeError);
  assert.ok(isWindowedLength(16) && isWindowedLength(64) && !isWindowedLength(26) && !isWindowedLength(12));
});

const PINNED = [[1, 2, 3, 0], [4, 6, 7, 5], [9, 8, 10, 11]];
