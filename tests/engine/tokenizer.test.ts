// Our tokenizer.json, run by transformers.js, must give the slow CLIPTokenizer's ids (no ftfy) for
// every fixture case, in both the SD-1.4 (pad = eos) and x4 (pad = "!") conventions.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { buildClipTokenizerConfig, buildClipTokenizerJson } from '../../src/convert/tokenizer.ts';
import { readTokenizerDir } from '../../src/convert/cli/node-io.ts';
import { loadClipTokenizer, tokenizeForClip } from '../../src/engine/text/tokenize.ts';
import { runNpmCli } from '../helpers/cli.ts';
import { fixtureDir } from '../helpers/fixtures.ts';

test('clip_tokenizer fixture CLI reproduces all cases in both conventions', () => {
  const dir = fixtureDir('clip_tokenizer');
  const out = join(mkdtempSync(join(tmpdir(), 'tok-')), 'ids.json');
  const r = runNpmCli('fixture', ['clip_tokenizer', dir, out]);
  assert.equal(r.status, 0, r.stderr);
  const got = JSON.parse(readFileSync(out, 'utf8')).cases;
  const ref = JSON.parse(readFileSync(join(dir, 'cases.json'), 'utf8')).cases;
  assert.equal(got.length, ref.length);
  for (let i = 0; i < ref.length; i++) {
    assert.equal(got[i].prompt, ref[i].prompt);
    assert.deepEqual(got[i].sd14, ref[i].sd14.input_ids, `sd14: ${ref[i].prompt}`);
    assert.deepEqual(got[i].x4, ref[i].x4.input_ids, `x4: ${ref[i].prompt}`);
  }
});

test('long prompts keep 75 text tokens and the final eos; the empty prompt is bos, eos, pads', async () => {
  const files = await readTokenizerDir(fixtureDir('clip_tokenizer'));
  const tok = loadClipTokenizer({ tokenizerJson: buildClipTokenizerJson(files), tokenizerConfig: buildClipTokenizerConfig(files) });
  const { ids, shape } = tokenizeForClip(tok, ['word '.repeat(200), '']);
  assert.deepEqual(shape, [2, 77]);
  const row = (i: number) => Array.from(ids.subarray(i * 77, i * 77 + 77), Number);
  assert.equal(row(0)[0], 812);
  assert.equal(row(0)[76], 813);
  assert.ok(row(0).slice(1, 76).every((id) => id !== 813));
  assert.deepEqual(row(1), [812, ...Array(76).fill(813)]);
});
