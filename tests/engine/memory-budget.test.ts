// The memory budget on the tiny pack (onnxruntime-node): stages estimate their GPU peak from the
// manifest (weights + static liveness); under a budget that fits each stage but not all sessions at
// once, the engine loads interpolation's sessions only when that stage runs, releases the base
// UNet for it and creates it again for the next base run — with the same frames as an unbounded engine.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { makeTinyPack } from '../../src/convert/cli/make-tiny-pack.ts';
import { LaVieEngine } from '../../src/engine/engine.ts';
import { createNodeRuntime } from '../../src/engine/runtime/node-runtime.ts';
import { memoryBudget, memoryPlan, networkWeightBytes } from '../../src/engine/stages/plan.ts';
import type { RgbaFrame } from '../../src/engine/types.ts';
import { openDirPack } from '../../src/packs/sources/node-folder.ts';
import { memoryFit, validateRequest, type GenerateRequest } from '../../src/protocol.ts';

const packDir = mkdtempSync(join(tmpdir(), 'tinypack-budget-'));
await makeTinyPack(packDir);
const m = openDirPack(packDir).manifest;

const request = (over: Partial<GenerateRequest> = {}): GenerateRequest => ({ id: 'r1', prompt: 'a teddy bear playing the guitar', negativePrompt: '', seed: 7, steps: 2, guidanceScale: 7.5, sampler: 'ddim', ...over });

async function frames(engine: LaVieEngine, req: GenerateRequest): Promise<Uint8Array[]> {
  const out: RgbaFrame[] = [];
  await engine.generate(req, { signal: new AbortController().signal, onProgress: () => {}, onFrame: (f) => { out.push(f); } });
  return out.map((f) => f.rgba);
}

test('each stage\'s estimate: weights of its networks (+ the resident text encoder) and the largest activation set', () => {
  const p = memoryPlan(m, request({ interpolate: true }), 'fp32', Infinity);
  assert.deepEqual(p.stages.map((s) => s.stage), ['base', 'interp']);
  const w = (c: Parameters<typeof networkWeightBytes>[0]) => networkWeightBytes(c, 'fp32');
  const c = m.components;
  assert.equal(p.stages[0]!.weightBytes, w(c.textEncoder) + w(c.baseUnet) + w(c.vaeDecoder));
  assert.equal(p.stages[1]!.weightBytes, w(c.textEncoder) + w(c.vaeEncoder!) + w(c.interpUnet!) + w(c.vaeDecoder));
  assert.ok(c.baseUnet.peakLiveBytes! > 0 && p.stages.every((s) => s.activationBytes > 0));
  assert.equal(p.peakBytes, Math.max(...p.stages.map((s) => s.peakBytes)));
  assert.ok(p.keptBytes > p.peakBytes, 'keeping every session costs more than releasing between stages');
  assert.equal(p.fits, true);
  // fp16-stored weights double on fp32-compute devices (ORT folds their Casts).
  const stored = c.baseUnet.externalData.reduce((s, f) => s + f.bytes, 0) + c.baseUnet.graph.bytes;
  assert.equal(networkWeightBytes({ ...c.baseUnet, precision: 'fp16' }, 'fp32'), 2 * stored);
});

test('an option that does not fit: the plan says so and names the option that does', () => {
  const base = memoryPlan(m, request(), 'fp32', Infinity).peakBytes;
  const all = memoryPlan(m, request({ interpolate: true, superResolve: true }), 'fp32', Infinity);
  assert.ok(all.peakBytes > base);
  const tight = memoryPlan(m, request({ interpolate: true, superResolve: true }), 'fp32', base);
  assert.equal(tight.fits, false);
  assert.ok(tight.instead && tight.instead.peakBytes <= base);
  assert.equal(memoryPlan(m, request(), 'fp32', base - 1).instead, null, 'nothing fits below the base stage');
  // The user's setting is a request field with its own rule; the budget is the smaller bound.
  assert.equal(validateRequest(request({ gpuMemoryGB: 8 })), null);
  assert.equal(validateRequest(request({ gpuMemoryGB: 6 as 8 }))?.field, 'gpuMemoryGB');
  assert.equal(memoryBudget({ settingGB: 8, learnedBytes: 5e9 }), 5e9);
  assert.equal(memoryBudget({}), Infinity);
  // The one fit rule (the app uses it on PackInfo.memory): keep the most requested stages, never add one.
  const peaks = [{ option: 1, peakBytes: 10 }, { option: 2, peakBytes: 20 }, { option: 3, peakBytes: 30 }, { option: 4, peakBytes: 40 }] as const;
  assert.deepEqual(memoryFit(peaks, 4, 25), { fits: false, peakBytes: 40, instead: peaks[1] });
  assert.deepEqual(memoryFit(peaks, 3, 25), { fits: false, peakBytes: 30, instead: peaks[0] });
  assert.deepEqual(memoryFit(peaks, 2, 25), { fits: true, peakBytes: 20, instead: null });
});

test('under a budget: interpolation sessions load on first use, the base UNet is released for them and reloaded; frames unchanged', async () => {
  const free = await LaVieEngine.load(createNodeRuntime(), openDirPack(packDir));
  const ref2 = await frames(free, request({ interpolate: true }));
  const ref1 = await frames(free, request({ seed: 9 }));
  assert.equal(free.counters.sessionsCreated, 4);
  await free.dispose();

  const plan = memoryPlan(m, request({ interpolate: true }), 'fp32', Infinity);
  const engine = await LaVieEngine.load(createNodeRuntime(), openDirPack(packDir), { budgetBytes: plan.peakBytes });
  // Base + interpolation do not fit together: only the base stage's sessions at load.
  assert.deepEqual(engine.loadedNetworks.sort(), ['base_unet', 'text:base', 'vae_decoder']);
  assert.equal(engine.counters.sessionsCreated, 2);
  assert.deepEqual(await frames(engine, request({ interpolate: true })), ref2);
  assert.deepEqual(engine.loadedNetworks.sort(), ['interp_unet', 'text:base', 'vae_decoder', 'vae_encoder']);
  assert.equal(engine.counters.sessionsLive, 3);
  assert.deepEqual(await frames(engine, request({ seed: 9 })), ref1);
  assert.ok(engine.loadedNetworks.includes('base_unet'));
  assert.equal(engine.counters.sessionsCreated, 5, 'the base UNet was created again');
  // The request's own setting only lowers the budget: 16 GB keeps the engine's.
  assert.equal(engine.memoryPlan(request({ interpolate: true, gpuMemoryGB: 16 })).budgetBytes, plan.peakBytes);
  await engine.dispose();
});
