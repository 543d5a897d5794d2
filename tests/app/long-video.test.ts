// The form's long-video fields: the lengths it lists and the ranges it lays out when a range is added
// or removed or the length changes — always ranges the request contract accepts.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { layoutRanges, lengthChoices, maxRanges } from '../../src/app/long-video.ts';
import { longLengths, segmentsProblem } from '../../src/protocol.ts';

const parsed = (r: ReturnType<typeof layoutRanges>) => r.map((g) => ({ prompt: g.prompt || 'p', from: Number(g.from), to: Number(g.to) }));

test('lengths: every contract length 16…64, offered as the pack says (none listed: 16 only)', () => {
  assert.deepEqual(lengthChoices(undefined).map((c) => [c.frames, c.offered]), [16, ...longLengths()].map((f) => [f, f === 16]));
  assert.deepEqual(lengthChoices([16, 32]).filter((c) => c.offered).map((c) => c.frames), [16, 32]);
});

test('laid-out ranges satisfy the contract for every length and count it allows, keep their prompts, and split at 4-frame blocks', () => {
  for (const frames of [16, ...longLengths()]) {
    for (let n = 1; n <= maxRanges(frames); n++) {
      const r = layoutRanges(n, frames, ['a', 'b']);
      assert.equal(r.length, n);
      assert.equal(segmentsProblem(parsed(r), frames), null, `${n} ranges over ${frames}`);
      assert.deepEqual(r.slice(0, 2).map((g) => g.prompt), ['a', 'b'].slice(0, n));
      for (const g of r.slice(1)) assert.equal(Number(g.from) % 4, 0);
    }
  }
  assert.deepEqual(layoutRanges(2, 64).map((g) => [g.from, g.to]), [['0', '31'], ['32', '63']]);
  assert.deepEqual(layoutRanges(2, 40).map((g) => [g.from, g.to]), [['0', '19'], ['20', '39']]);
  assert.deepEqual(layoutRanges(3, 48).map((g) => [g.from, g.to]), [['0', '15'], ['16', '31'], ['32', '47']]);
  assert.equal(layoutRanges(3, 40).length, 2, 'a length fits at most ⌊L/16⌋ ranges');
  assert.equal(maxRanges(64), 4);
});
