// Browser limits at LaVie's real shapes, by static analysis of the emitted graphs (no weights are
// materialised: a synthetic state dict supplies shapes lazily). WebGPU buffers are capped at
// 1 GiB on SwiftShader and on many real adapters; no intermediate may exceed it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SD14_CLIP_TEXT_CONFIG, buildClipText } from '../../src/convert/graphs/clip_text.ts';
import { DEFAULT_MAX_TENSOR_BYTES, type NetCtx } from '../../src/convert/graphs/nn.ts';
import { Params } from '../../src/convert/graphs/params.ts';
import { LAVIE_BASE_UNET_CONFIG, LAVIE_INTERP_UNET_CONFIG, buildBaseUNet, buildInterpUNet } from '../../src/convert/graphs/unet3d.ts';
import { SD14_VAE_CONFIG, X4_VAE_CONFIG, buildVaeDecoder, buildVaeEncoder } from '../../src/convert/graphs/vae.ts';
import { LAVIE_VSR_UNET_CONFIG, buildVsrUNet } from '../../src/convert/graphs/vsr-unet.ts';
import { fp16Compute } from '../../src/convert/onnx/fp16-compute.ts';
import { GraphBuilder } from '../../src/convert/onnx/graph.ts';
import * as op from '../../src/convert/onnx/ops.ts';
import { buildForCfg, buildLongBaseUNet } from '../../src/convert/pack/write-pack.ts';
import { synthesizer } from '../../src/convert/synthetic.ts';
import { numel } from '../../src/convert/tensor.ts';

const GiB = 1024 ** 3;

/** Ops verified on onnxruntime-web's WebGPU EP (WEB-PLATFORM.md + e2e/coverage.spec.ts). */
export const WEBGPU_SAFE_OPS = new Set(['Add', 'Sub', 'Mul', 'Div', 'Sqrt', 'Exp', 'Erf', 'Sigmoid', 'Sin', 'Cos', 'Relu', 'Clip', 'MatMul', 'Conv', 'Reshape', 'Transpose', 'Concat', 'Split', 'Slice', 'Gather', 'Expand', 'Softmax', 'ReduceMean', 'ReduceMax', 'LayerNormalization', 'Resize', 'Identity', 'Cast', 'DequantizeLinear', 'com.microsoft.MatMulNBits']);

function build(name: string, fn: (ctx: NetCtx) => void) {
  const g = new GraphBuilder(name);
  const p = new Params(new Map(), `synthetic ${name}`, synthesizer(0));
  const t0 = performance.now();
  fn({ g, p, precision: 'fp32', maxTensorBytes: DEFAULT_MAX_TENSOR_BYTES });
  const params = [...p.sd.values()].reduce((s, t) => s + numel(t.shape), 0);
  const largest = g.largestIntermediate()!;
  const top = g.tensorReport().filter((r) => r.kind !== 'initializer').sort((a, b) => b.bytes - a.bytes).slice(0, 3);
  console.log(`${name}: ${g.nodes.length} nodes, ${params.toLocaleString('en')} params, built in ${(performance.now() - t0).toFixed(0)} ms; largest tensors: ${top.map((r) => `[${r.shape}] ${(r.bytes / 2 ** 20).toFixed(0)} MiB`).join(', ')}`);
  return { g, params, largest };
}

test('full-size base UNet (CFG batch 2 × 16 frames × 40×64): every intermediate ≤ 1 GiB, 909 M params, WebGPU-safe ops', () => {
  const { g, params, largest } = build('base_unet', (ctx) => buildBaseUNet(ctx, LAVIE_BASE_UNET_CONFIG, { batch: 2, frames: 16, height: 40, width: 64 }));
  assert.ok(largest.bytes <= GiB, `largest intermediate ${largest.name} [${largest.shape}] = ${largest.bytes} bytes`);
  // LAVIE.md §9.1: 909,124,116 with the shared RoPE counted once; the state dict repeats its 16 values per block (+240).
  assert.equal(params, 909_124_116 + 240);
  const ops = [...g.opTypes().keys()];
  assert.deepEqual(ops.filter((o) => !WEBGPU_SAFE_OPS.has(o)), []);
});

test('full-size base UNet, FreeNoise at 64 frames: the converter picks two batch-1 CFG calls; every intermediate ≤ 1 GiB; peak live activations stated', () => {
  // At CFG batch 2 the top up-block's skip concat is [128, 960, 40, 64] = 1.17 GiB.
  let batch = 0;
  const { g, params, largest } = build('base_unet_L64', (ctx) => {
    // The graph packs ship: windowed, one text context per frame (several prompts over ranges).
    const chosen = buildForCfg('base_unet_L64', (g, b) => buildLongBaseUNet({ ...ctx, g, p: new Params(new Map(), 'synthetic', synthesizer(0)) }, LAVIE_BASE_UNET_CONFIG, { batch: b, frames: 64, height: 40, width: 64 }));
    batch = chosen.batch;
    buildLongBaseUNet(ctx, LAVIE_BASE_UNET_CONFIG, { batch: chosen.batch, frames: 64, height: 40, width: 64 });
  });
  assert.equal(batch, 1);
  assert.ok(largest.bytes <= GiB, `largest intermediate ${largest.name} [${largest.shape}] = ${largest.bytes} bytes`);
  assert.equal(params, 909_124_116 + 240); // FreeNoise adds no parameters
  assert.deepEqual([...g.opTypes().keys()].filter((o) => !WEBGPU_SAFE_OPS.has(o)), []);
  const f32 = g.peakLiveBytes().bytes;
  const f16 = fp16Compute(g).peakLiveBytes().bytes;
  console.log(`base UNet FreeNoise L=64, batch 1: largest ${(largest.bytes / 2 ** 20).toFixed(0)} MiB; peak live activations ${(f32 / 2 ** 20).toFixed(0)} MiB fp32, ${(f16 / 2 ** 20).toFixed(0)} MiB fp16 compute`);
  // One CFG branch of 64 frames holds about twice the activations of both branches at 16 frames (1.6 GiB).
  assert.ok(f32 < 4 * GiB && f16 < 2.5 * GiB, `peak ${f32} / ${f16}`);
});

test('full-size interpolation UNet (61 frames × 40×64): the converter picks two batch-1 CFG calls; every intermediate ≤ 1 GiB, 909 M params, WebGPU-safe ops', () => {
  // At CFG batch 2 the up-path skip concat alone is [122, 960, 40, 64] = 1.12 GiB.
  let batch = 0;
  const { g, params, largest } = build('interp_unet', (ctx) => {
    const chosen = buildForCfg('interp_unet', (g, b) => buildInterpUNet({ ...ctx, g, p: new Params(new Map(), 'synthetic', synthesizer(0)) }, LAVIE_INTERP_UNET_CONFIG, { batch: b, frames: 61, height: 40, width: 64 }));
    batch = chosen.batch;
    buildInterpUNet(ctx, LAVIE_INTERP_UNET_CONFIG, { batch: chosen.batch, frames: 61, height: 40, width: 64 });
  });
  assert.equal(batch, 1);
  assert.ok(largest.bytes <= GiB, `largest intermediate ${largest.name} [${largest.shape}] = ${largest.bytes} bytes`);
  assert.equal(params, 909_131_524); // LAVIE.md §4.1 (798 entries: no RoPE, no position bias)
  assert.deepEqual([...g.opTypes().keys()].filter((o) => !WEBGPU_SAFE_OPS.has(o)), []);
});

test('full-size VSR UNet: one 8-frame window on a 128×128 latent tile fits CFG batch 2 in ≤ 1 GiB per tensor (the untiled 320×512 frame cannot)', () => {
  let batch = 0;
  const { g, params, largest } = build('vsr_unet', (ctx) => {
    const chosen = buildForCfg('vsr_unet', (g, b) => buildVsrUNet({ ...ctx, g, p: new Params(new Map(), 'synthetic', synthesizer(0)) }, LAVIE_VSR_UNET_CONFIG, { batch: b, frames: 8, height: 128, width: 128 }));
    batch = chosen.batch;
    buildVsrUNet(ctx, LAVIE_VSR_UNET_CONFIG, { batch: chosen.batch, frames: 8, height: 128, width: 128 });
  });
  assert.equal(batch, 2);
  assert.ok(largest.bytes <= GiB, `largest intermediate ${largest.name} [${largest.shape}] = ${largest.bytes} bytes`);
  // LAVIE.md §5.1: 691,036,436 unique; the RoPE freqs are stored 17 times (+16·16).
  assert.equal(params, 691_036_436 + 256);
  assert.deepEqual([...g.opTypes().keys()].filter((o) => !WEBGPU_SAFE_OPS.has(o)), []);
  // Untiled, one window would need 3.75 GiB tensors even at batch 1.
  const whole = new GraphBuilder('vsr_whole');
  buildVsrUNet({ g: whole, p: new Params(new Map(), 'synthetic', synthesizer(0)), precision: 'fp32', maxTensorBytes: DEFAULT_MAX_TENSOR_BYTES }, LAVIE_VSR_UNET_CONFIG, { batch: 1, frames: 8, height: 320, width: 512 });
  assert.ok(whole.largestIntermediate()!.bytes > 3 * GiB);
});

test('full-size x4 VAE decoder: an 80×128 latent tile stays ≤ 1 GiB (a whole 320×512 frame would need a 100 GiB attention)', () => {
  const tile = build('x4_vae_decoder', (ctx) => buildVaeDecoder(ctx, X4_VAE_CONFIG, { batch: 1, height: 80, width: 128 }));
  assert.ok(tile.largest.bytes <= GiB, `largest ${tile.largest.bytes}`);
  const whole = new GraphBuilder('x4_whole');
  buildVaeDecoder({ g: whole, p: new Params(new Map(), 'synthetic', synthesizer(0)), precision: 'fp32', maxTensorBytes: DEFAULT_MAX_TENSOR_BYTES }, X4_VAE_CONFIG, { batch: 1, height: 320, width: 512 });
  assert.ok(whole.largestIntermediate()!.bytes > 64 * GiB);
});

test('full-size SD-1.4 VAE (one 320×512 frame) and CLIP-L: bounded, exact parameter counts', () => {
  const dec = build('vae_decoder', (ctx) => buildVaeDecoder(ctx, SD14_VAE_CONFIG, { batch: 1, height: 40, width: 64 }));
  const enc = build('vae_encoder', (ctx) => buildVaeEncoder(ctx, SD14_VAE_CONFIG, { batch: 1, height: 320, width: 512 }));
  const clip = build('clip_text', (ctx) => buildClipText(ctx, SD14_CLIP_TEXT_CONFIG, { batch: 2 }));
  for (const r of [dec, enc, clip]) assert.ok(r.largest.bytes <= GiB);
  assert.equal(dec.params, 49_490_199);
  assert.equal(enc.params, 34_163_664);
  assert.equal(clip.params, 123_060_480);
});

test('peak live activations: counted right on a toy graph (reshape shares, last reader frees, initializer-only values are weights)', () => {
  const g = new GraphBuilder('toy');
  const MiB = 2 ** 20;
  const x = g.input('x', 'float32', [MiB / 4]);
  const y = op.sigmoid(g, x); // x + y live: 2 MiB
  const r = op.reshape(g, y, [2, MiB / 8]); // shares y's buffer
  const z = op.sigmoid(g, r); // x + y + z: 3 MiB, then y is freed
  const w = op.cast(g, g.constF32(new Float32Array(MiB / 4), [MiB / 4]), 'float32'); // a weight, not an activation
  g.output(op.add(g, op.add(g, op.reshape(g, z, [MiB / 4]), x), w), 'out'); // x + z + t: 3 MiB
  assert.equal(g.peakLiveBytes().bytes, 3 * MiB);
});

test('peak live activations of the full-size graphs, fp32 and fp16 compute (docs/BENCHMARKS.md)', () => {
  const rows: [string, GraphBuilder][] = [
    ['base UNet, CFG batch 2', build('base_unet', (ctx) => buildBaseUNet(ctx, LAVIE_BASE_UNET_CONFIG, { batch: 2, frames: 16, height: 40, width: 64 })).g],
    ['interpolation UNet, batch 1', build('interp_unet', (ctx) => buildInterpUNet(ctx, LAVIE_INTERP_UNET_CONFIG, { batch: 1, frames: 61, height: 40, width: 64 })).g],
    ['VSR UNet, 8 frames × 128² tile, CFG batch 2', build('vsr_unet', (ctx) => buildVsrUNet(ctx, LAVIE_VSR_UNET_CONFIG, { batch: 2, frames: 8, height: 128, width: 128 })).g],
    ['SD-1.4 VAE decoder, 1 frame', build('vae_decoder', (ctx) => buildVaeDecoder(ctx, SD14_VAE_CONFIG, { batch: 1, height: 40, width: 64 })).g],
  ];
  for (const [name, g] of rows) {
    const f32 = g.peakLiveBytes().bytes;
    const f16 = fp16Compute(g).peakLiveBytes().bytes;
    console.log(`${name}: peak live activations ${(f32 / 2 ** 20).toFixed(0)} MiB fp32, ${(f16 / 2 ** 20).toFixed(0)} MiB fp16 compute`);
    // Never below the largest single tensor; fp16 compute well under fp32 (float32 islands aside).
    assert.ok(f32 >= g.largestIntermediate()!.bytes);
    assert.ok(f16 < 0.65 * f32, `${name}: fp16 ${f16} vs fp32 ${f32}`);
  }
  // Base UNet at LaVie's default shapes: 1.6 GiB in fp32 (measured 1601 MiB), under 1 GiB in fp16.
  const base = rows[0]![1];
  assert.ok(base.peakLiveBytes().bytes < 1.7 * GiB && fp16Compute(base).peakLiveBytes().bytes < GiB);
});
