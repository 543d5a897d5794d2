// The whole engine on the generated tiny pack, in Node (onnxruntime-node): pack verification,
// transformers.js tokenizer + text encoder served from the pack, base stage, frames. Also the
// waste counters the browser run relies on: sessions created once per pack, no readbacks inside
// the denoising loop (preview excepted and counted), text embeddings uploaded once.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { makeTinyPack } from '../../src/convert/cli/make-tiny-pack.ts';
import { LaVieEngine } from '../../src/engine/engine.ts';
import { createNodeRuntime } from '../../src/engine/runtime/node-runtime.ts';
import type { RgbaFrame } from '../../src/engine/types.ts';
import { openDirPack } from '../../src/packs/sources/node-folder.ts';
import { PackInvalidError } from '../../src/packs/pack-source.ts';
import { CancelledError, PROMPT_TEXT_TOKENS, type GenerateRequest, type ProgressInfo } from '../../src/protocol.ts';

const packDir = mkdtempSync(join(tmpdir(), 'tinypack-'));
await makeTinyPack(packDir);

const request = (over: Partial<GenerateRequest> = {}): GenerateRequest => ({ id: 'r1', prompt: 'a teddy bear playing the guitar', negativePrompt: '', seed: 7, steps: 3, guidanceScale: 7.5, sampler: 'ddpm', ...over });

async function generate(engine: LaVieEngine, req: GenerateRequest, signal = new AbortController().signal) {
  const frames: RgbaFrame[] = [];
  const progress: ProgressInfo[] = [];
  const events: string[] = [];
  let previews = 0;
  await engine.generate(req, {
    signal,
    onProgress: (p) => progress.push(p),
    onPreview: () => previews++,
    onStageStart: (s, v) => { events.push(`start ${s} ${v.frames}@${v.fps}`); },
    onFrame: (f) => { frames.push(f); },
    onStageEnd: (s) => { events.push(`end ${s} after ${frames.length}`); },
  });
  return { frames, progress, previews, events };
}

test('tiny pack: generate 16 frames; same seed → same frames; another seed → different', async () => {
  const rt = createNodeRuntime();
  const engine = await LaVieEngine.load(rt, openDirPack(packDir));
  assert.equal(engine.pack.testWeights, true);
  assert.equal(engine.pack.frames, 16);
  const a = await generate(engine, request());
  assert.equal(a.frames.length, 16);
  assert.deepEqual([a.frames[0]!.width, a.frames[0]!.height], [engine.pack.width, engine.pack.height]);
  assert.equal(a.frames[0]!.rgba.length, engine.pack.width * engine.pack.height * 4);
  const phases = [...new Set(a.progress.map((p) => p.phase))];
  assert.deepEqual(phases, ['text', 'denoise', 'decode']);
  const denoise = a.progress.filter((p) => p.phase === 'denoise').map((p) => p.step);
  assert.deepEqual(denoise, [1, 2, 3]);
  const b = await generate(engine, request());
  assert.deepEqual(b.frames.map((f) => f.rgba), a.frames.map((f) => f.rgba), 'same seed, same frames');
  const c = await generate(engine, request({ seed: 8 }));
  assert.notDeepEqual(c.frames[0]!.rgba, a.frames[0]!.rgba, 'another seed, other frames');
  for (const s of ['ddim', 'euler', 'dpm++2m'] as const) assert.equal((await generate(engine, request({ sampler: s }))).frames.length, 16);
  // Sessions: created once at load (base UNet, VAE decoder, VAE encoder, interpolation UNet; the
  // text encoder is transformers.js's), never per generation.
  assert.equal(engine.counters.sessionsCreated, 4);
  // The UI's token counter: the pack's tokenizer, before CLIP's cut.
  const short = engine.countTokens('a cat');
  assert.ok(short >= 2 && short < PROMPT_TEXT_TOKENS, String(short));
  assert.ok(engine.countTokens('cat '.repeat(PROMPT_TEXT_TOKENS + 1)) > PROMPT_TEXT_TOKENS);
  await engine.dispose();
});

test('waste counters: no readback inside the loop except counted previews; embeddings uploaded once', async () => {
  const rt = createNodeRuntime();
  const engine = await LaVieEngine.load(rt, openDirPack(packDir));
  const c = rt.device.counters;
  const before = { ...c };
  const steps = 5;
  const run = await generate(engine, request({ steps, sampler: 'ddpm' }));
  const readbacks = c.readbacks - before.readbacks;
  // 16 frame conversions after the loop + one read per preview; nothing else.
  assert.equal(readbacks, 16 + run.previews);
  assert.ok(run.previews >= 1 && run.previews <= steps);
  // Uploads: initial latents, embeddings once, DDPM noise for every step but the last.
  assert.equal(c.uploads - before.uploads, 1 + 1 + (steps - 1));
  await engine.dispose();
});

test('a corrupted pack file is rejected before use with a clear error', async () => {
  const bad = mkdtempSync(join(tmpdir(), 'badpack-'));
  await makeTinyPack(bad);
  const f = join(bad, 'unet/unet.weights-00.bin');
  const bytes = readFileSync(f);
  bytes[100] ^= 0xff;
  writeFileSync(f, bytes);
  await assert.rejects(LaVieEngine.load(createNodeRuntime(), openDirPack(bad)), (e: Error) => e instanceof PackInvalidError && /sha256/.test(e.message) && e.message.includes('unet/unet.weights-00.bin'));
});

test('cancel stops the run and the engine stays usable', async () => {
  const engine = await LaVieEngine.load(createNodeRuntime(), openDirPack(packDir));
  const ctrl = new AbortController();
  await assert.rejects(engine.generate(request({ steps: 4 }), { signal: ctrl.signal, onProgress: (p) => { if (p.phase === 'denoise' && p.step === 1) ctrl.abort(); }, onFrame: () => {} }), (e: Error) => e instanceof CancelledError);
  assert.equal((await generate(engine, request({ steps: 2 }))).frames.length, 16);
  await engine.dispose();
});

test('interpolation (LaVie option 2): 16 base frames, then 61 frames at 24 fps; stages announced in order', async () => {
  const rt = createNodeRuntime();
  const engine = await LaVieEngine.load(rt, openDirPack(packDir));
  assert.deepEqual(engine.pack.stages.interp, { frames: 61, width: engine.pack.width, height: engine.pack.height, fps: 24 });
  const c = rt.device.counters;
  const before = { ...c };
  const run = await generate(engine, request({ steps: 2, interpolate: true }));
  assert.deepEqual(run.events, ['start base 16@8', 'end base after 16', 'start interp 61@24', 'end interp after 77']);
  assert.deepEqual(run.frames.slice(16).map((f) => f.index), Array.from({ length: 61 }, (_, i) => i));
  const interp = run.progress.filter((p) => p.stage === 'interp');
  assert.deepEqual([...new Set(interp.map((p) => p.phase))], ['text', 'condition', 'denoise', 'decode']);
  assert.ok(interp.every((p) => p.stageIndex === 2 && p.stageCount === 2));
  assert.equal(interp.filter((p) => p.phase === 'denoise').length, engine['source'].manifest.stages.interp!.steps);
  // Readbacks: 16 + 61 frames, 16 posterior samples before the loop, and the counted previews.
  assert.equal(c.readbacks - before.readbacks, 16 + 61 + 16 + run.previews);
  // The base video of an interpolating run equals a base-only run with the same seed.
  const base = await generate(engine, request({ steps: 2 }));
  assert.deepEqual(base.frames.map((f) => f.rgba), run.frames.slice(0, 16).map((f) => f.rgba));
  // Interpolated frames are new frames, not copies of the base ones.
  assert.notDeepEqual(run.frames[16 + 4]!.rgba, run.frames[1]!.rgba);
  assert.equal(engine.counters.sessionsCreated, 4);
  await engine.dispose();
});

test('interpolation with the CFG branches as two batch-1 UNet calls (what full size needs) gives the same video', async () => {
  const seqDir = mkdtempSync(join(tmpdir(), 'tinypack-seq-'));
  await makeTinyPack(seqDir, undefined, { gpuBufferLimit: 1 << 20 });
  const seqManifest = JSON.parse(readFileSync(join(seqDir, 'manifest.json'), 'utf8'));
  assert.equal(seqManifest.components.interpUnet.inputs.find((i: { name: string }) => i.name === 'sample').shape[0], 1);
  const batched = await LaVieEngine.load(createNodeRuntime(), openDirPack(packDir));
  const seq = await LaVieEngine.load(createNodeRuntime(), openDirPack(seqDir));
  const a = await generate(batched, request({ steps: 2, interpolate: true }));
  const b = await generate(seq, request({ steps: 2, interpolate: true }));
  assert.equal(b.frames.length, 77);
  let maxDiff = 0;
  for (let i = 0; i < a.frames.length; i++) for (let k = 0; k < a.frames[i]!.rgba.length; k++) maxDiff = Math.max(maxDiff, Math.abs(a.frames[i]!.rgba[k]! - b.frames[i]!.rgba[k]!));
  assert.ok(maxDiff <= 1, `max byte difference ${maxDiff}`);
  await batched.dispose();
  await seq.dispose();
});

test('cancel during interpolation: the base stage had ended and delivered all its frames', async () => {
  const engine = await LaVieEngine.load(createNodeRuntime(), openDirPack(packDir));
  const ctrl = new AbortController();
  const ended: string[] = [];
  let frames = 0;
  await assert.rejects(engine.generate(request({ steps: 2, interpolate: true }), {
    signal: ctrl.signal,
    onProgress: (p) => { if (p.stage === 'interp' && p.phase === 'denoise' && p.step === 1) ctrl.abort(); },
    onFrame: () => { frames++; },
    onStageEnd: (s) => { ended.push(s); },
  }), (e: Error) => e instanceof CancelledError);
  assert.deepEqual(ended, ['base']);
  assert.equal(frames, 16);
  await engine.dispose();
});

test('20 cancels in a row (every stage, every phase) leave device tensors and live sessions at their baseline', async () => {
  const rt = createNodeRuntime();
  const engine = await LaVieEngine.load(rt, openDirPack(packDir));
  // Warm the lazily created VSR sessions so the baseline includes them.
  await generate(engine, request({ steps: 1, superResolve: true }));
  const tensors = rt.device.liveTensors;
  const sessions = engine.counters.sessionsLive;
  const created = engine.counters.sessionsCreated;
  const where = ['denoise', 'decode', 'condition', 'text'] as const;
  for (let i = 0; i < 20; i++) {
    const ctrl = new AbortController();
    const stage = (['base', 'interp', 'vsr'] as const)[i % 3];
    const phase = where[i % where.length];
    let seen = false;
    await assert.rejects(engine.generate(request({ steps: 2, seed: i, interpolate: stage !== 'base', superResolve: stage === 'vsr' }), {
      signal: ctrl.signal,
      onProgress: (p) => { if ((p.stage ?? 'base') === stage && (p.phase === phase || p.phase === 'denoise')) { seen = true; ctrl.abort(); } },
      onFrame: () => {},
    }), (e: Error) => e instanceof CancelledError);
    assert.ok(seen);
    assert.equal(rt.device.liveTensors, tensors, `after cancel ${i} (${stage}/${phase})`);
  }
  assert.equal(engine.counters.sessionsLive, sessions);
  assert.equal(engine.counters.sessionsCreated, created);
  assert.equal((await generate(engine, request({ steps: 1 }))).frames.length, 16);
  assert.equal(rt.device.liveTensors, tensors);
  await engine.dispose();
});

test('fp16 compute: the pack ships an fp16 graph per network on the same shards; a runtime that computes fp16 runs them and the video stays close', async () => {
  const m = openDirPack(packDir).manifest;
  const c = m.components;
  for (const [name, g] of Object.entries({ baseUnet: c.baseUnet, vaeDecoder: c.vaeDecoder, vaeEncoder: c.vaeEncoder!, interpUnet: c.interpUnet!, vsrUnet: c.vsr!.unet, vsrVae: c.vsr!.vaeDecoder, ...Object.fromEntries(c.vsr!.unetTails.map((t) => [`vsrUnetF${t.frames}`, t])) })) {
    assert.ok(g.graphF16, `${name} has no fp16 graph`);
    assert.match(g.graphF16.path, /\.f16\.onnx$/);
    assert.notEqual(g.graphF16.sha256, g.graph.sha256);
    // Tiny graphs: the f16 .onnx holds structure only; weights stay in the shared shards.
    assert.ok(g.graphF16.bytes < 2 * g.graph.bytes + 200_000, `${name}: ${g.graphF16.bytes} vs ${g.graph.bytes}`);
  }
  assert.equal(c.textEncoder.graphF16, undefined, 'the text encoder (transformers.js) stays fp32');

  const run = async (compute: 'fp32' | 'fp16') => {
    const engine = await LaVieEngine.load(createNodeRuntime({ compute }), openDirPack(packDir));
    assert.equal(engine.pack.compute, compute);
    const r = await generate(engine, request({ steps: 3, interpolate: true }));
    await engine.dispose();
    return r.frames;
  };
  const a = await run('fp32');
  const b = await run('fp16');
  assert.equal(b.length, a.length);
  let maxDiff = 0;
  let sum = 0;
  let n = 0;
  for (let i = 0; i < a.length; i++) {
    for (let j = 0; j < a[i]!.rgba.length; j++) {
      const d = Math.abs(a[i]!.rgba[j]! - b[i]!.rgba[j]!);
      maxDiff = Math.max(maxDiff, d);
      sum += d;
      n++;
    }
  }
  console.log(`fp16 vs fp32 compute, base + interpolation: max pixel diff ${maxDiff}, mean ${(sum / n).toFixed(3)}`);
  assert.ok(maxDiff > 0, 'identical frames: the fp16 graphs were not used');
  assert.ok(sum / n < 1 && maxDiff <= 16, `fp16 frames drift: max ${maxDiff}, mean ${sum / n}`);
});
