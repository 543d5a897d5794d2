// The memory budget on the tiny pack (onnxruntime-node): stages declare phases (the networks each
// holds), the estimate adds them up (weights + static liveness); under a budget that fits each phase
// but not all sessions at once, the engine creates and releases sessions exactly as the one rule's
// replay says (memory.ts) — interpolation's on first use, the VSR stage's x4 text encoder released
// before its UNet, the 8-frame VSR UNet before the tail graph — with unchanged frames.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { makeTinyPack } from '../../src/convert/cli/make-tiny-pack.ts';
import { LaVieEngine } from '../../src/engine/engine.ts';
import { createNodeRuntime } from '../../src/engine/runtime/node-runtime.ts';
import { heldAfterLoad, memoryBudget, memoryPlan, networkWeightBytes, replay, requestPhases, type PhaseMemory } from '../../src/engine/stages/memory.ts';
import type { RgbaFrame } from '../../src/engine/types.ts';
import { openDirPack } from '../../src/packs/sources/node-folder.ts';
import { memoryFit, validateRequest, type GenerateRequest } from '../../src/protocol.ts';

const packDir = mkdtempSync(join(tmpdir(), 'tinypack-budget-'));
await makeTinyPack(packDir);
const m = openDirPack(packDir).manifest;

const request = (over: Partial<GenerateRequest> = {}): GenerateRequest => ({ id: 'r1', prompt: 'a teddy bear playing the guitar', negativePrompt: '', seed: 7, steps: 2, guidanceScale: 7.5, sampler: 'ddim', ...over });

/** The journal (+created, −released) the rule's replay predicts for `reqs` run one after another from the load. */
function predicted(budget: number, reqs: GenerateRequest[]): { journal: string[]; phases: PhaseMemory[] } {
  const held = heldAfterLoad(m, 'fp32', budget);
  const load = ['+text:base', ...[...held.keys()].filter((k) => k !== 'text:base').map((k) => `+${k}`)];
  const phases = reqs.flatMap((r) => replay(m, requestPhases(m, r), 'fp32', budget, held));
  return { journal: [...load, ...phases.flatMap((p) => [...p.released.map((k) => `-${k}`), ...p.created.map((k) => `+${k}`)])], phases };
}

async function frames(engine: LaVieEngine, req: GenerateRequest): Promise<Uint8Array[]> {
  const out: RgbaFrame[] = [];
  await engine.generate(req, { signal: new AbortController().signal, onProgress: () => {}, onFrame: (f) => { out.push(f); } });
  return out.map((f) => f.rgba);
}

test('each stage\'s estimate: weights of its networks (+ the resident text encoder) and the largest activation set', () => {
  const p = memoryPlan(m, request({ interpolate: true }), 'fp32', Infinity);
  assert.deepEqual(p.phases.map((s) => s.stage), ['base', 'interp']);
  const w = (c: Parameters<typeof networkWeightBytes>[0]) => networkWeightBytes(c, 'fp32');
  const c = m.components;
  assert.equal(p.phases[0]!.weightBytes, w(c.textEncoder) + w(c.baseUnet) + w(c.vaeDecoder));
  assert.equal(p.phases[1]!.weightBytes, w(c.textEncoder) + w(c.vaeEncoder!) + w(c.interpUnet!) + w(c.vaeDecoder));
  assert.ok(c.baseUnet.peakLiveBytes! > 0 && p.phases.every((s) => s.activationBytes > 0));
  assert.equal(p.peakBytes, Math.max(...p.phases.map((s) => s.peakBytes)));
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
  // Created and released in the order the rule's replay predicts (the same replay bench:memory prints).
  assert.deepEqual(engine.networkJournal, predicted(plan.peakBytes, [request({ interpolate: true }), request({ seed: 9 })]).journal);
  assert.deepEqual(engine.networkJournal.slice(3), ['-base_unet', '+vae_encoder', '+interp_unet', '+base_unet']);
  // The request's own setting only lowers the budget: 16 GB keeps the engine's.
  assert.equal(engine.memoryPlan(request({ interpolate: true, gpuMemoryGB: 16 })).budgetBytes, plan.peakBytes);
  await engine.dispose();
});

test('option 4 at its lowest peak: sessions created and released as the replay says — the x4 text encoder and the earlier stages before the VSR UNet loads; frames unchanged after release and reload', async () => {
  const req = request({ interpolate: true, superResolve: true, seed: 3 });
  const budget = memoryPlan(m, req, 'fp32', Infinity).peakBytes;
  const engine = await LaVieEngine.load(createNodeRuntime(), openDirPack(packDir), { budgetBytes: budget });
  const first = await frames(engine, req);
  const afterFirst = engine.networkJournal.length;
  // The second run creates every stage's sessions again (each was released for a later one).
  assert.deepEqual(await frames(engine, req), first);
  const j = engine.networkJournal;
  const expect = predicted(budget, [req, req]);
  assert.deepEqual(j, expect.journal);
  assert.ok(expect.phases.every((p) => p.peakBytes <= budget), 'no phase goes over the budget');
  const at = (e: string, from = 0) => {
    const i = j.indexOf(e, from);
    assert.ok(i >= 0, `${e} in ${j.join(' ')}`);
    return i;
  };
  const vsrUnet = at('+vsr_unet');
  for (const e of ['+text:vsr', '-text:vsr', '-base_unet', '-interp_unet']) assert.ok(at(e) < vsrUnet, `${e} before +vsr_unet: ${j.join(' ')}`);
  // (The 8-frame VSR UNet's release before the tail graph needs full-size weights: memory-fullsize.test.ts.)
  assert.ok(j.slice(afterFirst).includes('+base_unet') && j.slice(afterFirst).includes('+vsr_unet'), 'the second run reloaded released sessions');
  await engine.dispose();
});
