// npm run eval:nano: the summary's arithmetic (accuracy, what later stages keep, targets), and one
// cheap run on the random tiny pack, which must report its output honestly (test weights, and the
// readings of noise: nothing it could mistake for the prompt's object).
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { summarize, table } from '../../src/cli/eval-nano.ts';
import { makeTinyPack } from '../../src/convert/cli/make-tiny-pack.ts';
import { runNpmCliAsync } from '../helpers/cli.ts';

const right = { color: true, shape: true, motion: true, background: true };
const scene = { color: 'red', shape: 'circle', motion: 'left', background: 'black' } as const;
const reading = { ...scene, maxObjects: 1 };
const interp = (ok: Partial<typeof right>, check = { monotonic: true, smooth: true, noNewObjects: true }) => ({ reading, correct: { ...right, ...ok }, check });

test('summary: base accuracy per attribute; interpolation keeps a share of what base got right; targets', () => {
  const results = Array.from({ length: 10 }, (_, i) => ({
    scene, seed: i, prompt: 'p',
    base: { reading, correct: { ...right, motion: i < 8 } }, // motion right in 8 of 10
    interp: interp({ motion: i < 6 }), // of those 8, 6 still right
  }));
  const s = summarize(results);
  assert.equal(s.base.motion, 0.8);
  assert.equal(s.base.color, 1);
  assert.equal(s.interp!.kept.motion, 6 / 8);
  assert.equal(s.interp!.accuracy.motion, 0.6);
  assert.equal(s.targetsMet, false); // base motion 80 % < 90 %
  const good = summarize(results.map((r) => ({ ...r, base: { reading, correct: right }, interp: interp({}) })));
  assert.equal(good.targetsMet, true);
  assert.equal(summarize(results.map((r) => ({ ...r, base: { reading, correct: right }, interp: interp({}, { monotonic: false, smooth: true, noNewObjects: true }) }))).targetsMet, false);
  assert.match(table(s, 10), /\| base \| 100 % \| 100 % \|  80 % \| 100 % \| \|/);
});

test('eval:nano on the random tiny pack runs and says its weights are random', async () => {
  const pack = join(mkdtempSync(join(tmpdir(), 'evalpack-')), 'p');
  await makeTinyPack(pack);
  const r = await runNpmCliAsync('eval:nano', ['--pack', pack, '--scenes', '1', '--steps', '1', '--stages', 'base', '--json']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /test weights: output is noise/);
  const out = JSON.parse(r.stdout);
  assert.equal(out.pack.testWeights, true);
  assert.equal(out.results.length, 1);
  assert.equal(out.results[0].prompt, 'a red circle moving left on a black background');
  assert.equal(out.summary.targetsMet, false);
  assert.equal(out.summary.interp, undefined);
});
