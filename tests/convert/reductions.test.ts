// Long float32 reductions: GroupNorm statistics at LaVie's real sizes reduce over up to 1.6 M
// elements; every emitted ReduceMean must stay short (two stages of ~√N) so both onnxruntime-node and
// WebGPU keep float32 precision (tests/convert/parity.test.ts checks the lavie-fullres fixtures).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FLAT_REDUCTION_MAX, groupMean, DEFAULT_MAX_TENSOR_BYTES } from '../../src/convert/graphs/nn.ts';
import { Params } from '../../src/convert/graphs/params.ts';
import { LAVIE_BASE_UNET_CONFIG, buildBaseUNet } from '../../src/convert/graphs/unet3d.ts';
import { SD14_VAE_CONFIG, X4_VAE_CONFIG, buildVaeDecoder } from '../../src/convert/graphs/vae.ts';
import { LAVIE_VSR_UNET_CONFIG, buildVsrUNet } from '../../src/convert/graphs/vsr-unet.ts';
import { fp16Compute } from '../../src/convert/onnx/fp16-compute.ts';
import { GraphBuilder } from '../../src/convert/onnx/graph.ts';
import * as op from '../../src/convert/onnx/ops.ts';
import { runGraph } from '../../src/convert/runtime/node-run.ts';
import { fillNormal, mulberry32, synthesizer } from '../../src/convert/synthetic.ts';

/** The longest run of elements any ReduceMean of `g` reduces over. */
function longestReduction(g: GraphBuilder): number {
  const shapes = new Map<string, readonly number[]>();
  for (const v of [...g.inputs, ...g.produced]) shapes.set(v.name, v.shape);
  let longest = 0;
  for (const n of g.nodes) {
    if (n.opType !== 'ReduceMean') continue;
    const shape = shapes.get(n.inputs[0]!)!;
    const axes = n.attrs.axes as number[];
    longest = Math.max(longest, axes.reduce((s, a) => s * shape[a]!, 1));
  }
  return longest;
}

test('full-size graphs: no ReduceMean runs over more than FLAT_REDUCTION_MAX elements (fp32 and the fp16 variant\'s float32 islands)', () => {
  const cases: [string, (g: GraphBuilder) => void][] = [
    ['base UNet, CFG 2 × 16 frames × 40×64', (g) => buildBaseUNet(ctx(g), LAVIE_BASE_UNET_CONFIG, { batch: 2, frames: 16, height: 40, width: 64 })],
    ['VSR UNet, 8 frames × 128² tile', (g) => buildVsrUNet(ctx(g), LAVIE_VSR_UNET_CONFIG, { batch: 2, frames: 8, height: 128, width: 128 })],
    ['SD-1.4 VAE decoder, 320×512', (g) => buildVaeDecoder(ctx(g), SD14_VAE_CONFIG, { batch: 1, height: 40, width: 64 })],
    ['x4 VAE decoder, 80×128 tile', (g) => buildVaeDecoder(ctx(g), X4_VAE_CONFIG, { batch: 1, height: 80, width: 128 })],
  ];
  for (const [name, build] of cases) {
    const g = new GraphBuilder('g');
    build(g);
    const f32 = longestReduction(g);
    const f16 = fp16Compute(g);
    console.log(`${name}: longest ReduceMean ${f32} elements`);
    assert.ok(f32 <= FLAT_REDUCTION_MAX, `${name}: ${f32}`);
    assert.equal(longestReduction(f16), f32);
  }
});

test('two-stage mean of 1.3 M float32 values on onnxruntime-node matches float64', async () => {
  // [B=1, F=1, G=2, L]: one SD-VAE decoder group at 320×512 (8 channels × 320 × 512), offset like a real activation.
  const l = 8 * 320 * 512;
  const data = fillNormal(new Float32Array(2 * l), mulberry32(7), 1, 3);
  const g = new GraphBuilder('mean');
  const x = g.input('x', 'float32', [1, 1, 2, l]);
  g.output(groupMean(g, x), 'two_stage');
  g.output(op.reduceMean(g, x, [1, 3]), 'flat');
  const out = await runGraph(g, { x: { dtype: 'float32', shape: [1, 1, 2, l], data } });
  for (let grp = 0; grp < 2; grp++) {
    let exact = 0;
    for (let i = grp * l; i < (grp + 1) * l; i++) exact += data[i]!;
    exact /= l;
    const two = Math.abs((out.two_stage!.data as Float32Array)[grp]! - exact);
    const flat = Math.abs((out.flat!.data as Float32Array)[grp]! - exact);
    console.log(`group ${grp}: |two-stage − float64| ${two.toExponential(2)}, |flat − float64| ${flat.toExponential(2)}`);
    // A few float32 ulps of the mean (a flat run over the group drifts by ~100).
    assert.ok(two <= 2e-6 * Math.abs(exact), `two-stage error ${two}`);
  }
});

function ctx(g: GraphBuilder) {
  return { g, p: new Params(new Map(), 'synthetic', synthesizer(0)), precision: 'fp32' as const, maxTensorBytes: DEFAULT_MAX_TENSOR_BYTES };
}
