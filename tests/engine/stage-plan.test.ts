// The stage plan: which stages a request runs on a pack, with each one's input/output video and
// cost, from one function (stages/plan.ts) that the engine's loop, PackInfo and the worker share.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { makeTinyPack } from '../../src/convert/cli/make-tiny-pack.ts';
import { STAGES, costOf, planStages } from '../../src/engine/stages/plan.ts';
import { openDirPack } from '../../src/packs/sources/node-folder.ts';
import { BadRequestError, type GenerateRequest } from '../../src/protocol.ts';

const dir = mkdtempSync(join(tmpdir(), 'tinypack-plan-'));
await makeTinyPack(dir);
const m = openDirPack(dir).manifest;
const req = (over: Partial<GenerateRequest> = {}): GenerateRequest => ({ id: 'p', prompt: 'x', negativePrompt: '', seed: 1, steps: 10, guidanceScale: 7.5, sampler: 'ddim', ...over });
const sizes = (r: GenerateRequest) => planStages(m, r).map((p) => [p.stage.name, p.input?.frames ?? null, p.output.frames, p.output.width, p.output.height, p.output.fps]);

test('the four LaVie options: each stage takes the previous output', () => {
  const b = m.stages.base;
  const s = m.stages.vsr!.scale;
  assert.deepEqual(sizes(req()), [['base', null, 16, b.width, b.height, b.fps]]);
  assert.deepEqual(sizes(req({ interpolate: true })), [['base', null, 16, b.width, b.height, b.fps], ['interp', 16, 61, b.width, b.height, m.stages.interp!.fps]]);
  assert.deepEqual(sizes(req({ superResolve: true })).at(-1), ['vsr', 16, 16, b.width * s, b.height * s, b.fps]);
  assert.deepEqual(sizes(req({ interpolate: true, superResolve: true })).at(-1), ['vsr', 61, 61, b.width * s, b.height * s, m.stages.interp!.fps]);
});

test('output sizes are functions of the input (what long base videos need)', () => {
  const long = { frames: 31, width: 64, height: 40, fps: 8 };
  assert.equal(STAGES.interp.output(m, req(), long).frames, 4 * 31 - 3);
  assert.deepEqual(STAGES.vsr.output(m, req(), long), { frames: 31, width: 64 * m.stages.vsr!.scale, height: 40 * m.stages.vsr!.scale, fps: 8 });
  assert.ok(costOf(STAGES.interp.work(m, req(), long)) > costOf(STAGES.interp.work(m, req(), { ...long, frames: 16 })), 'more segments cost more');
});

test('costs: positive, and the base stage grows with the steps', () => {
  for (const p of planStages(m, req({ interpolate: true, superResolve: true }))) assert.ok(p.cost > 0, p.stage.name);
  const [a] = planStages(m, req({ steps: 10 }));
  const [b] = planStages(m, req({ steps: 20 }));
  assert.ok(Math.abs(b!.cost - a!.cost - 10) < 1e-9, 'one unit per base UNet call');
  assert.ok(Math.abs(b!.work.denoise! - a!.work.denoise! - 10) < 1e-9, 'the steps are denoising work');
  for (const p of planStages(m, req({ interpolate: true, superResolve: true }))) assert.ok(Math.abs(costOf(p.work) - p.cost) < 1e-9, 'cost is the sum of the phases');
});

test('a stage the pack lacks is a bad request naming the field', () => {
  const baseOnly = { ...m, stages: { base: m.stages.base }, components: { ...m.components, interpUnet: undefined, vsr: undefined } };
  assert.equal(STAGES.interp.offered(baseOnly), false);
  assert.throws(() => planStages(baseOnly, req({ interpolate: true })), (e: Error) => e instanceof BadRequestError && e.field === 'interpolate');
  assert.throws(() => planStages(baseOnly, req({ superResolve: true })), (e: Error) => e instanceof BadRequestError && e.field === 'superResolve');
});

test('a long base video: its work is linear in frames (what the whole-job ETA counts), whatever its graph\'s node count; Smoother over it gives 4·L − 3 frames', () => {
  const b = m.components.baseUnet;
  // The long graph's node count is not its cost (FreeNoise's windows add nodes, convolutions do not).
  const long = { ...m, components: { ...m.components, longBaseUnets: [{ ...b, nodes: (b.nodes ?? 1) * 7, frames: 32 }, { ...b, nodes: (b.nodes ?? 1) * 3, frames: 64 }] } };
  const work = (frames: number) => planStages(long, req({ frames }))[0]!.work;
  for (const frames of [32, 64]) {
    assert.ok(Math.abs(work(frames).denoise! / work(16).denoise! - frames / 16) < 1e-9, `denoise at ${frames}`);
    assert.ok(Math.abs(work(frames).decode! / work(16).decode! - frames / 16) < 1e-9, `decode at ${frames}`);
  }
  assert.deepEqual(planStages(long, req({ frames: 64, interpolate: true })).map((p) => p.output.frames), [64, 253]);
});
