// The fp16-compute variant (what adapters with shader-f16 run): against the official outputs on
// onnxruntime-node, and its structure — float16 where the work is, float32 where fp16 would break
// (GroupNorm statistics, timestep sinusoids), float32 I/O, and exactly the fp32 graph's weights.
// (SwiftShader has no shader-f16, so these graphs cannot run on WebGPU here: e2e/coverage.spec.ts
// checks their placement there and that the adapter refuses them.)
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { FIXTURE_RUNNERS } from '../../src/convert/fixtures/index.ts';
import { loadFixture } from '../../src/convert/fixtures/load.ts';
import { DEFAULT_MAX_TENSOR_BYTES } from '../../src/convert/graphs/nn.ts';
import { buildBaseUNet, type UNet3DConfig } from '../../src/convert/graphs/unet3d.ts';
import type { WeightPrecision } from '../../src/convert/graphs/weights.ts';
import { computeDtypes, fp16Compute } from '../../src/convert/onnx/fp16-compute.ts';
import { GraphBuilder } from '../../src/convert/onnx/graph.ts';
import { runGraph, type HostTensor } from '../../src/convert/runtime/node-run.ts';
import { runNpmCli } from '../helpers/cli.ts';
import { fixtureDir, maxAbsDiff } from '../helpers/fixtures.ts';
import { readSafetensorsFile } from '../../src/convert/cli/node-io.ts';

// fp16 has an 11-bit significand (unit roundoff 4.9e-4); through ~20 layers of the tiny UNets
// the measured error is ≤ 2.2e-3 · max(1, |ref|) (docs/BENCHMARKS.md §Precision). fp32 compute
// with fp16-stored weights gives ≤ 1.6e-3, so 5e-3 leaves room without hiding a broken op (the
// same graph without its float32 islands is 1.4e-2 off: see the last test).
const TOL = 5e-3;

const CASES: [network: string, outputs: string[]][] = [
  ['base_unet', ['out']],
  ['interp_unet', ['out']],
  ['vsr_unet', ['out']],
  ['sd_vae', ['latent_mean', 'decoded']],
  ['vsr_vae', ['decoded']],
];

for (const [network, outputs] of CASES) {
  test(`${network}: fp16-compute variant matches the official code within ${TOL}`, async () => {
    const dir = fixtureDir(network);
    const ref = readSafetensorsFile(join(dir, 'outputs.safetensors'));
    const { run } = await FIXTURE_RUNNERS[network]!();
    const res = await run(dir, network, { precision: 'fp16', compute: 'fp16' });
    assert.equal(res.kind, 'tensors');
    if (res.kind !== 'tensors') return;
    for (const o of outputs) {
      const { diff, refMax } = maxAbsDiff(res.tensors[o]!.data as Float32Array, ref.get(o)!.read());
      console.log(`${network}.${o} fp16 compute: max |diff| ${diff.toExponential(2)} (max |ref| ${refMax.toFixed(2)})`);
      assert.ok(diff <= TOL * Math.max(1, refMax), `${network}.${o}: ${diff}`);
      assert.ok(diff > 1e-5 * Math.max(1, refMax), `${network}.${o}: error ${diff} is fp32-sized — is this really the fp16 graph?`);
    }
  });
}

test('fixture CLI --compute fp16 runs the fp16 variant', () => {
  const out = join(mkdtempSync(join(tmpdir(), 'fp16-')), 'o.safetensors');
  const r = runNpmCli('fixture', ['base_unet', fixtureDir('base_unet'), out, '--compute', 'fp16']);
  assert.equal(r.status, 0, r.stderr);
  const { diff, refMax } = maxAbsDiff(readSafetensorsFile(out).get('out')!.read(), readSafetensorsFile(join(fixtureDir('base_unet'), 'outputs.safetensors')).get('out')!.read());
  assert.ok(diff <= TOL * Math.max(1, refMax) && diff > 1e-5, `diff ${diff}`);
  const bad = runNpmCli('fixture', ['base_unet', fixtureDir('base_unet'), out, '--compute', 'fp8']);
  assert.notEqual(bad.status, 0);
  assert.match(bad.stderr, /--compute: fp32 or fp16/);
});

function baseUnet(precision: WeightPrecision): GraphBuilder {
  const { cfg, params, io } = loadFixture<UNet3DConfig>(fixtureDir('base_unet'));
  const [b, , f, h, w] = io.get('sample')!.shape as number[];
  const g = new GraphBuilder('base_unet');
  buildBaseUNet({ g, p: params, precision, maxTensorBytes: DEFAULT_MAX_TENSOR_BYTES }, cfg, { batch: b!, frames: f!, height: h!, width: w! });
  return g;
}

test('fp16 variant: fp16 where the work is, fp32 islands, fp32 I/O, the very same weights', () => {
  for (const precision of ['fp32', 'fp16', 'int8', 'int4'] as const) {
    const g = baseUnet(precision);
    const h = fp16Compute(g);
    const d = computeDtypes(h);
    for (const opType of ['Conv', 'MatMul', 'Softmax', 'LayerNormalization', 'Erf', 'Sigmoid', 'Transpose', 'Resize']) {
      if (precision === 'int4' && opType === 'MatMul' && !d.has('MatMul')) continue;
      const e = d.get(opType);
      assert.ok(e && e.float16 > 0 && e.float32 === 0, `${precision}: ${opType} ${JSON.stringify(e)}`);
    }
    if (precision === 'int4') assert.ok(d.get('MatMulNBits')!.float16 > 0 && d.get('MatMulNBits')!.float32 === 0);
    // GroupNorm statistics and the timestep sinusoids stay float32.
    for (const opType of ['ReduceMean', 'Sqrt', 'Sin', 'Cos']) assert.deepEqual(d.get(opType)?.float16, 0, `${opType} must stay fp32`);
    assert.deepEqual(h.inputs, g.inputs);
    assert.deepEqual(h.outputs.map((o) => [o.name, o.dtype]), g.outputs.map((o) => [o.name, o.dtype]));
    // Same initializers (so both variants read one set of weight shards), nothing converted.
    assert.deepEqual(h.initializers.map((i) => [i.name, i.dtype, i.byteLength]), g.initializers.map((i) => [i.name, i.dtype, i.byteLength]));
    // Every value a node reads is produced somewhere (no dangling names after the rewrite).
    const known = new Set([...h.inputs.map((v) => v.name), ...h.initializers.map((i) => i.name), ...h.produced.map((v) => v.name), '']);
    for (const n of h.nodes) for (const i of n.inputs) assert.ok(known.has(i), `${n.name} reads unknown ${i}`);
  }
});

test('fp16 variant with int8 and int4 weights: no worse than fp32 compute with the same weights', async () => {
  // Compared through the official output: onnxruntime-node's CPU fuses DequantizeLinear → MatMul
  // into a dynamically quantized product in the fp32 graph (itself ~1e-2 off), which the fp16
  // variant's Cast prevents, so the two variants are not each other's reference.
  const { run } = await FIXTURE_RUNNERS.base_unet!();
  const dir = fixtureDir('base_unet');
  const ref = readSafetensorsFile(join(dir, 'outputs.safetensors')).get('out')!.read();
  for (const precision of ['int8', 'int4'] as const) {
    const a = await run(dir, 'base_unet', { precision, compute: 'fp32' });
    const b = await run(dir, 'base_unet', { precision, compute: 'fp16' });
    if (a.kind !== 'tensors' || b.kind !== 'tensors') throw new Error('tensors expected');
    const ea = maxAbsDiff(a.tensors.out!.data as Float32Array, ref);
    const eb = maxAbsDiff(b.tensors.out!.data as Float32Array, ref);
    console.log(`base_unet ${precision}: fp32 compute ${ea.diff.toExponential(2)}, fp16 compute ${eb.diff.toExponential(2)}`);
    assert.ok(eb.diff <= ea.diff + TOL * Math.max(1, ea.refMax), `${precision}: fp16 compute ${eb.diff} vs fp32 compute ${ea.diff}`);
  }
});

test('without its float32 islands the fp16 variant misses the tolerance (why they exist)', async () => {
  const { io } = loadFixture<UNet3DConfig>(fixtureDir('base_unet'));
  const f32 = (name: string): HostTensor => ({ dtype: 'float32', shape: io.get(name)!.shape, data: io.get(name)!.read() });
  const feeds = { sample: f32('sample'), timestep: f32('timestep_f32'), encoder_hidden_states: f32('encoder_hidden_states') };
  const ref = readSafetensorsFile(join(fixtureDir('base_unet'), 'outputs.safetensors')).get('out')!.read();
  const g = baseUnet('fp16');
  const withIslands = maxAbsDiff((await runGraph(fp16Compute(g), feeds)).out!.data as Float32Array, ref);
  const without = maxAbsDiff((await runGraph(fp16Compute(g, { keepFp32: false }), feeds)).out!.data as Float32Array, ref);
  console.log(`base_unet fp16 compute: ${withIslands.diff.toExponential(2)} with float32 islands, ${without.diff.toExponential(2)} without`);
  assert.ok(withIslands.diff <= TOL * Math.max(1, withIslands.refMax));
  assert.ok(without.diff > TOL * Math.max(1, without.refMax), `without islands: ${without.diff}`);
});
