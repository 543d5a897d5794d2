// Long base videos through the whole engine on a tiny pack with 24- and 32-frame FreeNoise graphs:
// the request's length picks the windowed graph, that many frames come out, the pack says which
// lengths it has, several prompts over frame ranges change the video (one prompt for every range is
// the single-prompt video, through the interpolation too, whose segments read the ranges' text), and
// what is not offered is a typed bad request.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { makeTinyPack } from '../../src/convert/cli/make-tiny-pack.ts';
import { LaVieEngine } from '../../src/engine/engine.ts';
import { createNodeRuntime } from '../../src/engine/runtime/node-runtime.ts';
import type { RgbaFrame } from '../../src/engine/types.ts';
import { openDirPack } from '../../src/packs/sources/node-folder.ts';
import { BadRequestError, validateRequest, type GenerateRequest } from '../../src/protocol.ts';

let engine: LaVieEngine;
before(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tinypack-long-'));
  await makeTinyPack(dir, undefined, { longFrames: [24, 32] });
  engine = await LaVieEngine.load(createNodeRuntime(), await openDirPack(dir));
});
after(() => engine.dispose());

const run = async (req: GenerateRequest): Promise<RgbaFrame[]> => {
  const frames: RgbaFrame[] = [];
  await engine.generate(req, { signal: new AbortController().signal, onProgress: () => {}, onFrame: (f) => { frames.push(f); } });
  return frames;
};
const base = { id: 'r', prompt: 'a red ball rolls', negativePrompt: '', seed: 5, steps: 2, guidanceScale: 7.5, sampler: 'ddim' } as const;

test('24 frames: a DDIM request makes 24 frames; 16 stays the plain video; other lengths are refused; Smoother gives 4·24 − 3', async () => {
  assert.deepEqual(engine.pack.lengths, [16, 24, 32]);
  const req: GenerateRequest = { ...base, frames: 24 };
  assert.equal(validateRequest(req, engine.pack), null);
  assert.deepEqual(engine.plan(req).map((p) => p.video.frames), [24]);
  const frames = await run(req);
  assert.deepEqual(frames.map((f) => f.index), Array.from({ length: 24 }, (_, i) => i));
  assert.equal(validateRequest({ ...req, frames: 28 }, engine.pack)?.field, 'frames');
  assert.throws(() => engine.plan({ ...req, frames: 28 }), (e: BadRequestError) => e.field === 'frames');
  // Interpolation over 16-frame segments sharing boundary frames: 4·24 − 3 frames, each once, in order.
  const smooth = await run({ ...req, interpolate: true });
  assert.deepEqual(smooth.slice(24).map((f) => f.index), Array.from({ length: 93 }, (_, i) => i));
  // Two ranges need 2 × 16 frames.
  const short = [{ prompt: 'a red ball rolls', from: 0, to: 11 }, { prompt: 'a red ball stops', from: 12, to: 23 }];
  assert.throws(() => engine.plan({ ...req, segments: short }), (e: BadRequestError) => e.field === 'segments');
});

test('32 frames, 2 steps, two prompts over 0–15 and 16–31: 32 frames; the same prompt on both ranges is the single-prompt video; a second prompt changes it', async () => {
  const req: GenerateRequest = { ...base, frames: 32 };
  const single = await run(req);
  assert.deepEqual(single.map((f) => f.index), Array.from({ length: 32 }, (_, i) => i));
  const same = await run({ ...req, segments: [{ prompt: 'a red ball rolls', from: 0, to: 15 }, { prompt: 'a red ball rolls', from: 16, to: 31 }] });
  assert.deepEqual(same.map((f) => f.rgba), single.map((f) => f.rgba));
  const two = { ...req, segments: [{ prompt: 'a red ball rolls', from: 0, to: 15 }, { prompt: 'a blue cube stops', from: 16, to: 31 }] };
  assert.equal(validateRequest(two, engine.pack), null);
  const mixed = await run(two);
  assert.deepEqual(mixed.map((f) => f.index), Array.from({ length: 32 }, (_, i) => i));
  assert.notDeepEqual(mixed[31]!.rgba, single[31]!.rgba, 'the second range reads its own prompt');
});

test('32 frames + High resolution: each super-resolution window reads its ranges\' text — one prompt on every range = the single-prompt video, whatever prompt names it', async () => {
  const req: GenerateRequest = { ...base, steps: 1, frames: 32, superResolve: true };
  const single = (await run(req)).slice(32);
  assert.equal(single.length, 32);
  const ranges = [{ prompt: base.prompt, from: 0, to: 15 }, { prompt: base.prompt, from: 16, to: 31 }];
  const named = (await run({ ...req, prompt: 'a name that no stage reads', segments: ranges })).slice(32);
  assert.deepEqual(named.map((f) => f.rgba), single.map((f) => f.rgba));
});

test('32 frames + Smoother: each interpolation segment reads its ranges\' text — one prompt on every range = the single-prompt video (base and 4·32 − 3 interpolated frames), whatever prompt names the video', async () => {
  const req: GenerateRequest = { ...base, steps: 1, frames: 32, interpolate: true };
  const single = await run(req);
  assert.equal(single.length, 32 + 125);
  const ranges = [{ prompt: base.prompt, from: 0, to: 15 }, { prompt: base.prompt, from: 16, to: 31 }];
  // `prompt` only names the video when ranges are given: the base and the interpolation read the ranges.
  const named = await run({ ...req, prompt: 'a name that no stage reads', segments: ranges });
  assert.deepEqual(named.map((f) => f.index), single.map((f) => f.index));
  assert.deepEqual(named.map((f) => f.rgba), single.map((f) => f.rgba));
});
