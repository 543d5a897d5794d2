// FreeNoise-LaVie's pipeline end to end on tiny weights (fixtures/pipeline_freenoise: 24 frames,
// DDIM 4 steps, CFG 7.5): the initial latents rebuilt from the raw noise and the recorded shuffles
// by our rescheduling, the windowed base UNet built by our converter, the browser's base-stage code.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FREENOISE_WINDOWS, rescheduleNoise } from '../../src/engine/freenoise.ts';
import { runBasePipelineFixture } from '../helpers/base-pipeline.ts';

test('FreeNoise pipeline reproduces the official FreeNoise-LaVie VideoGenPipeline (tiny, 24 frames, DDIM 4 steps)', async () => {
  const r = await runBasePipelineFixture({
    folder: 'pipeline_freenoise',
    names: { latents: 'latents', neg: 'negative_prompt_embeds', pos: 'prompt_embeds', step: (k, t) => `step${k}.t${t}.latents`, video: 'video_uint8' },
    windows: FREENOISE_WINDOWS,
    initial: (io) => {
      const noise = io.get('noise')!;
      const p = io.get('perm')!;
      const flat = Array.from(p.read(), Number);
      const perm = Array.from({ length: p.shape[0]! }, (_, b) => flat.slice(b * p.shape[1]!, (b + 1) * p.shape[1]!));
      const x = rescheduleNoise(noise.read(), noise.shape, perm);
      assert.deepEqual(x, io.get('latents')!.read(), 'rescheduled noise = the official prepare_latents');
      return x;
    },
  });
  console.log('relative latent error per step:', r.stepErrors.map((e) => e.toExponential(2)).join(', '));
  for (const e of r.stepErrors) assert.ok(e <= 1e-3, `latents within 1e-3·max|ref| (got ${e})`);
  console.log(`uint8 frames: max |diff| ${r.worst}, ${r.differing} of ${r.total} values differ`);
  assert.ok(r.worst <= 2, `frames within ±2 (got ${r.worst})`);
});
