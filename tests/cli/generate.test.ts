// npm run generate on the tiny pack (2 steps), run as a user would: the MP4 demuxes to the stage
// plan's frame count, size and fps, and its samples are the engine's own frames (the same request
// run in this process), so the CLI writes what the app would show. Long videos: --frames and
// repeatable --prompt "text@from-to" ranges reach the engine as the contract's frames/segments.
// Bad input: one typed line, exit 1.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { makeTinyPack } from '../../src/convert/cli/make-tiny-pack.ts';
import { generateFrames, loadNodeEngine } from '../../src/cli/node-engine.ts';
import { bodyFromFlags, parsePromptRange, promptsFromFlags } from '../../src/cli/generate.ts';
import { UsageError } from '../../src/convert/cli/cli-util.ts';
import { LAVIE_DEFAULTS, validateRequest, withDefaults, type GenerateRequest } from '../../src/protocol.ts';
import type { RgbaFrame } from '../../src/engine/types.ts';
import { decodePcmAccessUnit, rgbToYuv601 } from '../../src/video/h264-pcm.ts';
import { runNpmCliAsync } from '../helpers/cli.ts';
import { demux } from '../helpers/mp4.ts';

const dir = mkdtempSync(join(tmpdir(), 'gen-'));
const pack = join(dir, 'pack');
await makeTinyPack(pack, undefined, { longFrames: [32] });

/** Worst luma difference between the MP4's I_PCM samples and RGBA frames. */
function worstLuma(packets: { data: Uint8Array }[], frames: readonly RgbaFrame[], w: number, h: number): number {
  let worst = 0;
  for (const [i, f] of frames.entries()) {
    const { y } = decodePcmAccessUnit(packets[i]!.data, w, h);
    for (let p = 0; p < w * h; p++) worst = Math.max(worst, Math.abs(y[p]! - rgbToYuv601(f.rgba[4 * p]!, f.rgba[4 * p + 1]!, f.rgba[4 * p + 2]!)[0]));
  }
  return worst;
}

test('generate: base video of the tiny pack → MP4 with the engine frames, 16 at 8 fps', async () => {
  const out = join(dir, 'v.mp4');
  const r = await runNpmCliAsync('generate', ['--prompt', 'a red ball moving left', '--seed', '5', '--steps', '2', '--pack', pack, '--out', out]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /v\.mp4: 16 frames 32×32 at 8 fps, avc1\.42c01f, seed 5\n$/);
  assert.match(r.stderr, /base \(1\/1\) denoise 2\/2/);
  const m = await demux(new Uint8Array(readFileSync(out)));
  assert.deepEqual([m.width, m.height, m.packets.length, m.duration], [32, 32, 16, 2]);

  const engine = await loadNodeEngine(pack);
  const [stage] = await generateFrames(engine, { id: 't', prompt: 'a red ball moving left', negativePrompt: '', seed: 5, steps: 2, guidanceScale: engine.pack.defaults.guidanceScale, sampler: engine.pack.defaults.sampler });
  await engine.dispose();
  const worst = worstLuma(m.packets, stage!.frames, 32, 32);
  assert.ok(worst <= 0.5, `luma differs from the engine's frames by ${worst}`);
});

test('generate: with the smoother the file is the last stage\'s video (61 frames at 24 fps)', async () => {
  const out = join(dir, 'interp.mp4');
  const r = await runNpmCliAsync('generate', ['--prompt', 'a cat', '--seed', '1', '--steps', '1', '--stages', 'base+interp', '--pack', pack, '--out', out]);
  assert.equal(r.status, 0, r.stderr);
  const m = await demux(new Uint8Array(readFileSync(out)));
  assert.deepEqual([m.width, m.height, m.packets.length], [32, 32, 61]);
  assert.ok(Math.abs(m.duration - 61 / 24) < 1e-9);
});

test('generate: a request outside the contract is one typed line naming the option; no file', async () => {
  const out = join(dir, 'bad.mp4');
  for (const [args, re] of [
    [['--prompt', 'x', '--seed', '-1'], /^error \[bad-request\]: Seed must be a whole number from 0 to 4294967295 \(--seed; see --help\)\.$/],
    [['--prompt', 'x', '--frames', '24', '--sampler', 'ddim'], /^error \[bad-request\]: Length of 24 frames is not offered by this model \(16, 32\) \(--frames; see --help\)\.$/],
    [['--prompt', 'a cat walks@0-15', '--prompt', 'a cat sits@20-31'], /^error \[bad-request\]: Prompts over frame ranges range 2 must start at frame 16 and span at least 16 frames \(--prompt; see --help\)\.$/],
  ] as const) {
    const r = await runNpmCliAsync('generate', [...args, '--pack', pack, '--out', out]);
    assert.equal(r.status, 1, r.stdout);
    assert.match(r.stderr.trim().split('\n').at(-1)!, re);
    assert.ok(!existsSync(out));
  }
});

test('generate: --prompt "text@from-to" parsing — the last "@a-b" is the range, one plain prompt stays a prompt, the ranges give the length and DDIM', () => {
  assert.deepEqual(parsePromptRange('a cat walks@0-31'), { prompt: 'a cat walks', from: 0, to: 31 });
  assert.deepEqual(parsePromptRange('mail me@home @ 32 - 63'), { prompt: 'mail me@home', from: 32, to: 63 });
  assert.equal(parsePromptRange('a cat @ home'), null);
  assert.deepEqual(promptsFromFlags(['a cat']), { prompt: 'a cat' });
  assert.deepEqual(promptsFromFlags(['a cat walks@0-31', 'a cat sits@32-63']), { prompt: 'a cat walks', segments: [{ prompt: 'a cat walks', from: 0, to: 31 }, { prompt: 'a cat sits', from: 32, to: 63 }] });
  assert.throws(() => promptsFromFlags(['a cat walks@0-31', 'a cat sits']), UsageError);
  const body = bodyFromFlags({}, ['a cat walks@0-31', 'a cat sits@32-63']);
  assert.equal(body.frames, 64, '--frames defaults to the end of the last range');
  const req = { id: 'c', ...withDefaults(body, LAVIE_DEFAULTS, () => 0) };
  assert.equal(req.sampler, 'ddim', 'a long video defaults to DDIM (LaVie\'s default is DDPM)');
  assert.equal(validateRequest(req), null);
  assert.match(validateRequest({ ...req, sampler: 'ddpm' })?.message ?? '', /^Length above 16 frames needs the DDIM sampler\.$/);
  assert.equal(validateRequest({ id: 'c', ...withDefaults(bodyFromFlags({ frames: '48' }, ['a@0-31', 'b@32-63']), LAVIE_DEFAULTS, () => 0) })?.field, 'segments', '--frames and the ranges must agree');
});

// Each CLI run costs ~20 s of process start on a loaded machine: one run covers --prompt ranges, the
// inferred --frames and the DDIM default (bad ranges are one case of the typed-line test above).
test('generate: two prompts over 0–15 and 16–31 → a 32-frame MP4 with the engine\'s frames of that two-prompt request', async () => {
  const out = join(dir, 'long.mp4');
  const r = await runNpmCliAsync('generate', ['--prompt', 'a red ball rolls@0-15', '--prompt', 'a blue cube stops@16-31', '--seed', '3', '--steps', '2', '--pack', pack, '--out', out]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /long\.mp4: 32 frames 32×32 at 8 fps, avc1\.42c01f, seed 3\n$/);
  assert.match(r.stderr, /base 32×32×32@8/);
  const m = await demux(new Uint8Array(readFileSync(out)));
  assert.deepEqual([m.packets.length, m.duration], [32, 4]);

  const engine = await loadNodeEngine(pack);
  const req: GenerateRequest = { id: 't', prompt: 'a red ball rolls', negativePrompt: '', seed: 3, steps: 2, guidanceScale: engine.pack.defaults.guidanceScale, sampler: 'ddim', frames: 32 };
  const [ranges] = await generateFrames(engine, { ...req, segments: [{ prompt: 'a red ball rolls', from: 0, to: 15 }, { prompt: 'a blue cube stops', from: 16, to: 31 }] });
  await engine.dispose();
  // (The second prompt changes the video: tests/engine/long-video.test.ts.)
  assert.ok(worstLuma(m.packets, ranges!.frames, 32, 32) <= 0.5, 'the file holds the two-prompt video');
});
