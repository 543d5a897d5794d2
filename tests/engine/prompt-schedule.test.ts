// Several prompts over frame ranges: the schedule's rules, and through the base UNet built with
// per-frame contexts: one prompt for every range equals the single-prompt result exactly.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { readSafetensorsFile } from '../../src/convert/cli/node-io.ts';
import { DEFAULT_MAX_TENSOR_BYTES } from '../../src/convert/graphs/nn.ts';
import { Params } from '../../src/convert/graphs/params.ts';
import { buildBaseUNet, type UNet3DConfig } from '../../src/convert/graphs/unet3d.ts';
import { GraphBuilder } from '../../src/convert/onnx/graph.ts';
import { runGraph } from '../../src/convert/runtime/node-run.ts';
import { FREENOISE_WINDOWS } from '../../src/engine/freenoise.ts';
import { gaussianNoise } from '../../src/engine/noise.ts';
import { framePromptIndex, perFrameContexts } from '../../src/engine/prompt-schedule.ts';
import { fixtureDir } from '../helpers/fixtures.ts';

test('prompt schedule: ranges tile the frames in order', () => {
  assert.deepEqual(framePromptIndex([{ prompt: 'a', from: 0, to: 2 }, { prompt: 'b', from: 3, to: 4 }], 5), [0, 0, 0, 1, 1]);
  assert.throws(() => framePromptIndex([{ prompt: 'a', from: 0, to: 2 }, { prompt: 'b', from: 4, to: 4 }], 5), /range 2/); // gap
  assert.throws(() => framePromptIndex([{ prompt: 'a', from: 0, to: 2 }, { prompt: 'b', from: 2, to: 4 }], 5), /range 2/); // overlap
  assert.throws(() => framePromptIndex([{ prompt: 'a', from: 0, to: 3 }], 5), /cover frames 0–3/);
  assert.throws(() => framePromptIndex([], 5), RangeError);
});

test('base UNet (24 frames, FreeNoise windows) with per-frame contexts: one prompt for every range = the single-prompt output; two prompts change it', async () => {
  const dir = fixtureDir('base_unet');
  const cfg = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as UNet3DConfig;
  const weights = readSafetensorsFile(join(dir, 'weights.safetensors'));
  const [F, H, W, D] = [24, 8, 16, cfg.cross_attention_dim];
  const build = (perFrameText: boolean) => {
    const g = new GraphBuilder('unet');
    buildBaseUNet({ g, p: new Params(weights), precision: 'fp32', maxTensorBytes: DEFAULT_MAX_TENSOR_BYTES }, cfg, { batch: 2, frames: F, height: H, width: W }, FREENOISE_WINDOWS, { perFrameText });
    return g;
  };
  const sample = gaussianNoise(1, 0, 2 * 4 * F * H * W);
  const [neg, cat, dog] = [2, 3, 4].map((s) => gaussianNoise(s, 0, 77 * D));
  const run = async (g: GraphBuilder, text: Float32Array, rows: number) => (await runGraph(g, {
    sample: { dtype: 'float32', shape: [2, 4, F, H, W], data: sample },
    timestep: { dtype: 'float32', shape: [1], data: Float32Array.of(501) },
    encoder_hidden_states: { dtype: 'float32', shape: [rows, 77, D], data: text },
  })).out!.data as Float32Array;
  const single = new Float32Array(2 * 77 * D);
  single.set(neg!, 0);
  single.set(cat!, 77 * D);
  const ref = await run(build(false), single, 2);

  const perFrame = build(true);
  // Each range's prompt encoded on its own (here: its embedding), the negative prompt on every frame.
  const branches = (embs: Float32Array[], index: number[]) => {
    const t = new Float32Array(2 * F * 77 * D);
    t.set(perFrameContexts([neg!], index.map(() => 0)), 0);
    t.set(perFrameContexts(embs, index), F * 77 * D);
    return t;
  };
  const index = framePromptIndex([{ prompt: 'cat', from: 0, to: 11 }, { prompt: 'cat', from: 12, to: 23 }], F);
  assert.deepEqual(await run(perFrame, branches([cat!, cat!], index), 2 * F), ref);
  const mixed = await run(perFrame, branches([cat!, dog!], index), 2 * F);
  const lastFrame = (x: Float32Array) => x.subarray((4 * F + 3 * F + F - 1) * H * W, (4 * F + 3 * F + F) * H * W); // cond batch, channel 3, frame 23
  assert.notDeepEqual(lastFrame(mixed), lastFrame(ref));
});
