// Long base videos through the whole engine on a tiny pack with a 24-frame FreeNoise graph: the
// request's length picks the windowed graph, 24 frames come out, the pack says which lengths it has,
// and what is not offered is a typed bad request.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { makeTinyPack } from '../../src/convert/cli/make-tiny-pack.ts';
import { LaVieEngine } from '../../src/engine/engine.ts';
import { createNodeRuntime } from '../../src/engine/runtime/node-runtime.ts';
import type { RgbaFrame } from '../../src/engine/types.ts';
import { openDirPack } from '../../src/packs/sources/node-folder.ts';
import { BadRequestError, validateRequest, type GenerateRequest } from '../../src/protocol.ts';

test('tiny pack with a 24-frame graph: a 24-frame DDIM request makes 24 frames; 16 stays the plain video; others are refused', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tinypack-long-'));
  await makeTinyPack(dir, undefined, { longFrames: [24] });
  const engine = await LaVieEngine.load(createNodeRuntime(), await openDirPack(dir));
  try {
    assert.deepEqual(engine.pack.lengths, [16, 24]);
    const req: GenerateRequest = { id: 'r', prompt: 'a red ball rolls', negativePrompt: '', seed: 5, steps: 2, guidanceScale: 7.5, sampler: 'ddim', frames: 24 };
    assert.equal(validateRequest(req, engine.pack), null);
    assert.deepEqual(engine.plan(req).map((p) => p.video.frames), [24]);
    const frames: RgbaFrame[] = [];
    const out = await engine.generate(req, { signal: new AbortController().signal, onProgress: () => {}, onFrame: (f) => { frames.push(f); } });
    assert.equal(out.frames, 24);
    assert.equal(frames.length, 24);
    assert.deepEqual(frames.map((f) => f.index), Array.from({ length: 24 }, (_, i) => i));
    assert.equal(validateRequest({ ...req, frames: 32 }, engine.pack)?.field, 'frames');
    assert.throws(() => engine.plan({ ...req, frames: 32 }), (e: BadRequestError) => e.field === 'frames');
    // Interpolation over 16-frame segments sharing boundary frames: 4·24 − 3 frames, each once, in order.
    const smooth: RgbaFrame[] = [];
    await engine.generate({ ...req, interpolate: true }, { signal: new AbortController().signal, onProgress: () => {}, onFrame: (f) => { smooth.push(f); } });
    assert.deepEqual(smooth.slice(24).map((f) => f.index), Array.from({ length: 93 }, (_, i) => i));
    const ranges = [{ prompt: 'a red ball rolls', from: 0, to: 11 }, { prompt: 'a red ball stops', from: 12, to: 23 }];
    assert.throws(() => engine.plan({ ...req, segments: ranges }), (e: BadRequestError) => e.field === 'segments');
  } finally {
    await engine.dispose();
  }
});
