// The official base pipeline end to end on tiny weights (fixtures/pipeline_base: DDIM 4 steps,
// CFG 7.5, injected latents and text embeddings), reproduced by our engine in Node.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runBasePipelineFixture } from '../helpers/base-pipeline.ts';

test('base pipeline reproduces the official VideoGenPipeline (tiny, DDIM 4 steps, CFG 7.5)', async () => {
  const r = await runBasePipelineFixture({
    folder: 'pipeline_base',
    names: { latents: 'latents', neg: 'negative_prompt_embeds', pos: 'prompt_embeds', step: (k, t) => `step${k}.t${t}.latents`, video: 'video_uint8' },
  });
  console.log('relative latent error per step:', r.stepErrors.map((e) => e.toExponential(2)).join(', '));
  for (const e of r.stepErrors) assert.ok(e <= 1e-3, `latents within 1e-3·max|ref| (got ${e})`);
  console.log(`uint8 frames: max |diff| ${r.worst}, ${r.differing} of ${r.total} values differ`);
  assert.ok(r.worst <= 2, `frames within ±2 (got ${r.worst})`);
});
