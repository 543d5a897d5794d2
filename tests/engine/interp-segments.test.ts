// Interpolating a long base video in 16-frame segments: each output frame exactly once, with the
// condition frame a single long interpolation would give it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { conditionSource } from '../../src/engine/pipeline/interp-stage.ts';
import { interpOutputFrames, interpSegments } from '../../src/engine/pipeline/interp-segments.ts';

test('16 base frames: one segment, all 61 frames (LaVie as is)', () => {
  assert.deepEqual(interpSegments(16), [{ start: 0, from: 0, to: 61 }]);
});

test('segments for L = 16 + 4k up to 64 tile 4L − 3 output frames with no duplicate or gap, conditions consistent', () => {
  for (let L = 16; L <= 64; L += 4) {
    const segs = interpSegments(L);
    const produced: number[] = [];
    segs.forEach((s, i) => {
      assert.ok(s.start >= 0 && s.start + 16 <= L, `L=${L}: segment inside the video`);
      assert.ok(s.from >= 0 && s.from < s.to && s.to <= 61, `L=${L}: kept range inside the segment's 61 frames`);
      if (i) assert.ok(s.start <= segs[i - 1]!.start + 15, `L=${L}: consecutive segments share a base frame`);
      for (let j = s.from; j < s.to; j++) {
        const n = 4 * s.start + j;
        produced.push(n);
        assert.equal(s.start + conditionSource(j, 16), conditionSource(n, L), `L=${L}: output ${n} conditioned on the same base frame`);
      }
    });
    assert.deepEqual(produced, Array.from({ length: interpOutputFrames(L) }, (_, n) => n), `L=${L}: every output frame once, in order`);
  }
  assert.deepEqual(interpSegments(64).map((s) => s.start), [0, 15, 30, 45, 48]);
  assert.equal(interpOutputFrames(64), 253);
  assert.throws(() => interpSegments(12), RangeError);
});
