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
import { framePromptIndex, perFrameContexts, promptOverFrames } from '../../src/engine/prompt-schedule.ts';
import { interpSegments } from '../../src/engine/pipeline/interp-segments.ts';
import type { BadRequestError } from '../../src/protocol.ts';
import { fixtureDir } from '../helpers/fixtures.ts';

test('prompt schedule: ranges tile the frames in order, each at least one 16-frame window', () => {
  assert.deepEqual(framePromptIndex([{ prompt: 'a', from: 0, to: 15 }, { prompt: 'b', from: 16, to: 31 }], 32), [...Array(16).fill(0), ...Array(16).fill(1)]);
  const bad = (s: { prompt: string; from: number; to: number }[], frames: number) => assert.throws(() => framePromptIndex(s, frames), (e: BadRequestError) => e.field === 'segments');
  bad([{ prompt: 'a', from: 0, to: 15 }, { prompt: 'b', from: 17, to: 32 }], 33); // gap
  bad([{ prompt: 'a', from: 0, to: 15 }, { prompt: 'b', from: 15, to: 31 }], 32); // overlap
  bad([{ prompt: 'a', from: 0, to: 15 }, { prompt: 'b', from: 16, to: 23 }], 24); // range shorter than a window
  bad([{ prompt: 'a', from: 0, to: 15 }], 24); // frames left without a prompt
  bad([{ prompt: ' ', from: 0, to: 15 }], 16);
  bad([], 16);
});

test('interpolation segments of a 64-frame video with three ranges: each reads the range covering most of its 16 base frames (the earlier on a tie)', () => {
  const segments = [{ prompt: 'walks', from: 0, to: 23 }, { prompt: 'sits', from: 24, to: 47 }, { prompt: 'sleeps', from: 48, to: 63 }];
  const req = { prompt: 'a cat', segments };
  // Segments start 0, 15, 30, 45, 48 (interp-segments.test.ts): 15–30 is 9 frames of "walks" and 7 of "sits", 45–60 3 of "sits" and 13 of "sleeps".
  assert.deepEqual(interpSegments(64).map((g) => promptOverFrames(req, g.start, g.start + 15)), ['walks', 'walks', 'sits', 'sleeps', 'sleeps']);
  assert.equal(promptOverFrames(req, 16, 31), 'walks', 'a tie (8 + 8 frames) goes to the earlier range');
  assert.equal(promptOverFrames({ prompt: 'a cat' }, 0, 15), 'a cat', 'no ranges: the prompt');
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
  const index = Array.from({ length: F }, (_, f) => (f < 12 ? 0 : 1)); // two ranges, 0–11 and 12–23
  assert.deepEqual(await run(perFrame, branches([cat!, cat!], index), 2 * F), ref);
  const mixed = await run(perFrame, branches([cat!, dog!], index), 2 * F);
  const lastFrame = (x: Float32Array) => x.subarray((4 * F + 3 * F + F - 1) * H * W, (4 * F + 3 * F + F) * H * W); // cond batch, channel 3, frame 23
  assert.notDeepEqual(lastFrame(mixed), lastFrame(ref));
});
