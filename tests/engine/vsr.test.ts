// The super-resolution stage on tiny packs in Node: LaVie's options 3 and 4 (frame counts, ×4 size,
// windows of 8 with a shorter last one), and the tiling: with one tile covering the whole frame the
// tiled path equals a plain whole-frame loop exactly; with real overlapping tiles it stays within a
// stated tolerance of the whole-frame result.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { makeTinyPack } from '../../src/convert/cli/make-tiny-pack.ts';
import { LaVieEngine } from '../../src/engine/engine.ts';
import { gaussianNoise } from '../../src/engine/noise.ts';
import { decodeFrames } from '../../src/engine/pipeline/decode.ts';
import { denoise } from '../../src/engine/pipeline/denoise.ts';
import { rgbaToImage } from '../../src/engine/pipeline/interp-stage.ts';
import { runVsrStage, vsrWindows } from '../../src/engine/pipeline/vsr-stage.ts';
import { createNodeRuntime } from '../../src/engine/runtime/node-runtime.ts';
import { createSession, type SessionCounters } from '../../src/engine/runtime/runtime.ts';
import { createVsrSampler, lowResNoiseCoeffs } from '../../src/engine/schedulers/index.ts';
import type { RgbaFrame } from '../../src/engine/types.ts';
import { openDirPack } from '../../src/packs/sources/node-folder.ts';
import type { GraphComponent } from '../../src/packs/manifest.ts';
import type { GenerateRequest } from '../../src/protocol.ts';

const whole = mkdtempSync(join(tmpdir(), 'tinypack-vsr-'));
await makeTinyPack(whole);
const request = (over: Partial<GenerateRequest> = {}): GenerateRequest => ({ id: 'v', prompt: 'a lighthouse at dusk', negativePrompt: '', seed: 3, steps: 1, guidanceScale: 7.5, sampler: 'ddim', ...over });

async function run(engine: LaVieEngine, req: GenerateRequest) {
  const frames: (RgbaFrame & { stage: string })[] = [];
  const events: string[] = [];
  let stage = '';
  await engine.generate(req, {
    signal: new AbortController().signal,
    onProgress: () => {},
    onStageStart: (s, v) => { stage = s; events.push(`${s} ${v.frames}×${v.width}×${v.height}@${v.fps}`); },
    onFrame: (f) => { frames.push({ ...f, stage }); },
  });
  return { frames, events };
}

test('LaVie windows: 16 → 8+8, 61 → 7×8 + 5', () => {
  assert.deepEqual(vsrWindows(16, 8).map((w) => w.frames), [8, 8]);
  assert.deepEqual(vsrWindows(61, 8).map((w) => w.frames), [8, 8, 8, 8, 8, 8, 8, 5]);
  assert.deepEqual(vsrWindows(61, 8).map((w) => w.start), [0, 8, 16, 24, 32, 40, 48, 56]);
});

test('option 3 (base + VSR) and option 4 (base + interpolation + VSR): frame counts, ×4 size, fps of the input', async () => {
  const engine = await LaVieEngine.load(createNodeRuntime(), openDirPack(whole));
  const p = engine.pack;
  assert.equal(p.stages.vsr?.scale, 4);
  const o3 = await run(engine, request({ superResolve: true }));
  assert.deepEqual(o3.events, [`base 16×${p.width}×${p.height}@8`, `vsr 16×${4 * p.width}×${4 * p.height}@8`]);
  const up = o3.frames.filter((f) => f.stage === 'vsr');
  assert.equal(up.length, 16);
  assert.deepEqual(up.map((f) => f.index), Array.from({ length: 16 }, (_, i) => i));
  assert.equal(up[0]!.rgba.length, 16 * p.width * p.height * 4);
  const o4 = await run(engine, request({ superResolve: true, interpolate: true }));
  assert.deepEqual(o4.events, [`base 16×${p.width}×${p.height}@8`, `interp 61×${p.width}×${p.height}@24`, `vsr 61×${4 * p.width}×${4 * p.height}@24`]);
  assert.equal(o4.frames.filter((f) => f.stage === 'vsr').length, 61);
  // VSR sessions: the 8-frame UNet, the 5-frame tail, the x4 decoder, created once.
  const created = engine.counters.sessionsCreated;
  await run(engine, request({ superResolve: true, seed: 4 }));
  assert.equal(engine.counters.sessionsCreated, created);
  await engine.dispose();
});

/** A Node runtime with a pack's 8-frame VSR UNet and x4 decoder sessions. */
async function vsrSessions(packDir: string) {
  const src = openDirPack(packDir);
  const m = src.manifest;
  const rt = createNodeRuntime();
  const counters: SessionCounters = { sessionsCreated: 0, sessionsLive: 0, runs: 0 };
  const load = async (c: GraphComponent) => createSession(rt, c.graph.path, { model: await src.read(c.graph.path), externalData: await Promise.all(c.externalData.map(async (f) => ({ path: f.path.split('/').pop()!, data: await src.read(f.path) }))) }, counters);
  return { rt, v: m.stages.vsr!, unet: await load(m.components.vsr!.unet), vae: await load(m.components.vsr!.vaeDecoder) };
}

/** The VSR stage through runVsrStage with the pack's sessions, on given input frames. */
async function vsrThroughStage(packDir: string, input: RgbaFrame[], seed: number): Promise<Uint8Array[]> {
  const { rt, v, unet, vae } = await vsrSessions(packDir);
  const emb = rt.device.alloc([2, 77, v.textDim]);
  rt.device.upload(emb, gaussianNoise(99, 0, 2 * 77 * v.textDim));
  const out: Uint8Array[] = [];
  await runVsrStage(rt, async (frames) => {
    assert.equal(frames, 8);
    return { unet, vaeDecoder: vae };
  }, {
    input, plan: createVsrSampler(2), guidanceScale: v.guidanceScale, windowFrames: 8, latentChannels: 4, tile: v.tile, vaeTile: v.vaeTile, scale: v.scale,
    noiseLevel: v.noiseLevel, lowResNoise: lowResNoiseCoeffs(v.noiseLevel), embeddings: emb, scalingFactor: v.vaeScalingFactor,
    noise: (stream, count) => gaussianNoise(seed, stream, count),
  }, { signal: new AbortController().signal, onProgress: () => {}, onFrame: (f) => { out.push(f.rgba); } });
  return out;
}

function syntheticInput(frames: number, size: number): RgbaFrame[] {
  return Array.from({ length: frames }, (_, f) => {
    const rgba = new Uint8Array(size * size * 4);
    for (let i = 0; i < size * size; i++) {
      const x = i % size;
      const y = Math.floor(i / size);
      rgba.set([(x * 8 + f * 5) & 255, (y * 8) & 255, ((x + y) * 4) & 255, 255], 4 * i);
    }
    return { index: f, width: size, height: size, rgba };
  });
}

test('a tile covering the whole frame gives exactly the plain whole-frame result', async () => {
  const input = syntheticInput(8, 32);
  const tiled = await vsrThroughStage(whole, input, 5);
  // Plain loop: the generic denoiser on the whole grid, then whole-frame decoding.
  const { rt, v, unet, vae } = await vsrSessions(whole);
  const hw = 32 * 32;
  const lr = new Float32Array(3 * 8 * hw);
  input.forEach((fr, f) => { const img = rgbaToImage(fr); for (let ch = 0; ch < 3; ch++) lr.set(img.subarray(ch * hw, (ch + 1) * hw), (ch * 8 + f) * hw); });
  const n = gaussianNoise(5, 0, lr.length);
  const { a, b } = lowResNoiseCoeffs(v.noiseLevel);
  const lr2 = new Float32Array(2 * lr.length);
  for (let i = 0; i < lr.length; i++) lr2[i] = lr2[lr.length + i] = Math.fround(Math.fround(a * lr[i]!) + Math.fround(b * n[i]!));
  const lowRes = rt.device.alloc([2, 3, 8, 32, 32]);
  rt.device.upload(lowRes, lr2);
  const emb = rt.device.alloc([2, 77, v.textDim]);
  rt.device.upload(emb, gaussianNoise(99, 0, 2 * 77 * v.textDim));
  const x = rt.device.alloc([1, 4, 8, 32, 32]);
  await denoise(rt, unet, x, {
    plan: createVsrSampler(2), guidanceScale: v.guidanceScale, latent: { channels: 4, frames: 8, height: 32, width: 32 }, embeddings: emb,
    noise: (stream, count) => gaussianNoise(5, stream === 0 ? 1 : 1000 + stream, count),
    fixedInputs: { low_res: lowRes }, hostInputs: { class_labels: new rt.ort.Tensor('int64', BigInt64Array.of(50n, 50n), [2]) },
  }, { signal: new AbortController().signal, onProgress: () => {} });
  const plain: Uint8Array[] = [];
  await decodeFrames(rt, vae, x, { latent: { channels: 4, frames: 8, height: 32, width: 32 }, scalingFactor: v.vaeScalingFactor, image: { height: 128, width: 128 }, rgba: 'truncate' }, { signal: new AbortController().signal, onProgress: () => {}, onFrame: (f) => { plain.push(f.rgba); } });
  assert.equal(tiled.length, 8);
  let maxDiff = 0;
  for (let f = 0; f < 8; f++) for (let i = 0; i < plain[f]!.length; i++) maxDiff = Math.max(maxDiff, Math.abs(plain[f]![i]! - tiled[f]![i]!));
  assert.ok(maxDiff <= 1, `max byte difference ${maxDiff}`);
});

test('overlapping tiles (UNet and x4 decoder, 24×24 with overlap 16 on the 32×32 grid) stay well within the seed-to-seed difference', async () => {
  const tiledDir = mkdtempSync(join(tmpdir(), 'tinypack-vsr-tiles-'));
  await makeTinyPack(tiledDir, undefined, { vsrTile: { height: 24, width: 24, overlap: 16 }, vsrVaeTile: { height: 24, width: 24, overlap: 16 } });
  const input = syntheticInput(8, 32);
  const a = await vsrThroughStage(whole, input, 6);
  const b = await vsrThroughStage(tiledDir, input, 6);
  const other = await vsrThroughStage(whole, input, 7);
  const meanDiff = (x: Uint8Array[], y: Uint8Array[]) => {
    let sum = 0;
    let count = 0;
    for (let f = 0; f < x.length; f++) for (let i = 0; i < x[f]!.length; i += 4) for (let ch = 0; ch < 3; ch++) { sum += Math.abs(x[f]![i + ch]! - y[f]![i + ch]!); count++; }
    return sum / count;
  };
  const tiled = meanDiff(a, b);
  const seeds = meanDiff(a, other);
  console.log(`tiled vs whole-frame: mean |Δ| ${tiled.toFixed(1)} levels; another seed: ${seeds.toFixed(1)} levels`);
  // Per-tile GroupNorm statistics and attention make tiling approximate; random weights exaggerate
  // it. Stated bound: the tiled result is closer to the whole-frame one than 0.75× a reseed.
  assert.ok(tiled > 0, 'tiling must actually change the computation here');
  assert.ok(tiled < 0.75 * seeds, `tiled ${tiled} vs reseed ${seeds}`);
});
