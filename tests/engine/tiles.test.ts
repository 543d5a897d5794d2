import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { axisStarts, planTiles } from '../../src/engine/pipeline/tiles.ts';

test('a tile as large as the frame is one tile with weight 1 everywhere', () => {
  const p = planTiles(40, 64, 40, 64, 8);
  assert.deepEqual(p.tiles, [{ y0: 0, x0: 0, h: 40, w: 64 }]);
  assert.ok(p.weights[0]!.every((v) => v === 1));
  assert.deepEqual(planTiles(40, 64, 80, 128, 8).tiles, [{ y0: 0, x0: 0, h: 40, w: 64 }]);
});

test('tiles cover the frame, stay inside it, overlap by at least the requested amount', () => {
  fc.assert(fc.property(fc.integer({ min: 1, max: 400 }), fc.integer({ min: 2, max: 200 }), fc.integer({ min: 0, max: 40 }), (len, tile, ov) => {
    fc.pre(ov < tile);
    const s = axisStarts(len, tile, ov);
    const t = Math.min(tile, len);
    assert.equal(s[0], 0);
    assert.equal(s[s.length - 1]! + t, len);
    for (let i = 1; i < s.length; i++) {
      assert.ok(s[i]! > s[i - 1]!);
      assert.ok(s[i - 1]! + t - s[i]! >= ov, `overlap ${s[i - 1]! + t - s[i]!} < ${ov}`);
    }
  }));
});

test('blend weights are positive and sum to 1 at every pixel', () => {
  for (const [h, w, th, tw, ov] of [[40, 64, 16, 24, 4], [320, 512, 96, 128, 16], [17, 33, 8, 8, 3]] as const) {
    const p = planTiles(h, w, th, tw, ov);
    const sum = new Float64Array(h * w);
    p.tiles.forEach((t, i) => {
      for (let y = 0; y < t.h; y++) for (let x = 0; x < t.w; x++) {
        const v = p.weights[i]![y * t.w + x]!;
        assert.ok(v > 0);
        sum[(t.y0 + y) * w + t.x0 + x]! += v;
      }
    });
    for (const v of sum) assert.ok(Math.abs(v - 1) < 1e-6, `sum ${v}`);
  }
});
