// npm run generate on the tiny pack (2 steps), run as a user would: the MP4 demuxes to the stage
// plan's frame count, size and fps, and its samples are the engine's own frames (the same request
// run in this process), so the CLI writes what the app would show. Bad input: one typed line, exit 1.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { makeTinyPack } from '../../src/convert/cli/make-tiny-pack.ts';
import { generateFrames, loadNodeEngine } from '../../src/cli/node-engine.ts';
import { decodePcmAccessUnit, rgbToYuv601 } from '../../src/video/h264-pcm.ts';
import { runNpmCliAsync } from '../helpers/cli.ts';
import { demux } from '../helpers/mp4.ts';

const dir = mkdtempSync(join(tmpdir(), 'gen-'));
const pack = join(dir, 'pack');
await makeTinyPack(pack);

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
  let worst = 0;
  for (const [i, f] of stage!.frames.entries()) {
    const { y } = decodePcmAccessUnit(m.packets[i]!.data, 32, 32);
    for (let p = 0; p < 32 * 32; p++) worst = Math.max(worst, Math.abs(y[p]! - rgbToYuv601(f.rgba[4 * p]!, f.rgba[4 * p + 1]!, f.rgba[4 * p + 2]!)[0]));
  }
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
    [['--prompt', 'x', '--frames', '24', '--sampler', 'ddim'], /^error \[bad-request\]: Length of 24 frames is not offered by this model \(16\) \(--frames; see --help\)\.$/],
  ] as const) {
    const r = await runNpmCliAsync('generate', [...args, '--pack', pack, '--out', out]);
    assert.equal(r.status, 1, r.stdout);
    assert.match(r.stderr.trim().split('\n').at(-1)!, re);
    assert.ok(!existsSync(out));
  }
});
