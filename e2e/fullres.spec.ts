// WebGPU precision at LaVie's real sizes (lavie-fullres fixtures). SwiftShader decodes the whole
// 320×512 frame of sd_vae_fullres in over 10 minutes on this 2-core machine, so:
//   1. GroupNorm statistics at the fixture's longest reduction (4 groups of 8 channels × 320 × 512 =
//      1.31 M elements, decoder.up_blocks.3.resnets.0.norm1) run through the graphs' own two-stage
//      mean on WebGPU and are checked against float64;
//   2. the sd_vae_fullres decoder (its official weights) decodes an 8×8 latent tile of the
//      fixture's latent on WebGPU and must match onnxruntime-node on the same tile (the whole
//      frame is checked against the official output on node: tests/convert/parity.test.ts). @slow
//      (CI's share after npm test): 53 s that npm test's budget cannot pay.
import { expect, test } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { readSafetensorsFile } from '../src/convert/cli/node-io.ts';
import { DEFAULT_MAX_TENSOR_BYTES, groupMean } from '../src/convert/graphs/nn.ts';
import { Params } from '../src/convert/graphs/params.ts';
import { buildVaeDecoder, type VaeConfig } from '../src/convert/graphs/vae.ts';
import { GraphBuilder } from '../src/convert/onnx/graph.ts';
import * as op from '../src/convert/onnx/ops.ts';
import { runGraph } from '../src/convert/runtime/node-run.ts';
import { fillNormal, mulberry32 } from '../src/convert/synthetic.ts';
import { cpuPlacedNodes, openOrtPage, runOnWebGpu } from './support/ort-page.ts';
import { maxAbsDiff } from '../tests/helpers/fixtures.ts';

const DIR = join(process.env.LAVIE_FULLRES_FIXTURES ?? resolve('../shared/fixtures/lavie-fullres'), 'sd_vae_fullres');
const TOL = (refMax: number) => 1e-4 * Math.max(1, refMax);

test.describe.configure({ mode: 'serial' });

test('GroupNorm statistics over 1.31 M elements per group on WebGPU match float64', async ({ page }) => {
  test.setTimeout(300_000);
  // x[c, h, w] = 3 + a[c, h] + b[c, w]: a full 5.2 M-element field (mean ≈ 3, as activations after a
  // bias) built on the GPU from 26 k inputs, so little crosses the page boundary.
  const [C, H, W, G] = [32, 320, 512, 4];
  const rand = mulberry32(11);
  const a = fillNormal(new Float32Array(C * H), rand, 1, 3);
  const b = fillNormal(new Float32Array(C * W), rand);
  const g = new GraphBuilder('gn_stats');
  const x = op.add(g, g.input('a', 'float32', [1, C, H, 1]), g.input('b', 'float32', [1, C, 1, W]));
  const xr = op.reshape(g, x, [1, 1, G, (C / G) * H * W]);
  const mean = groupMean(g, xr);
  const d = op.sub(g, xr, mean);
  g.output(mean, 'mean');
  g.output(groupMean(g, op.mul(g, d, d)), 'variance');
  g.output(op.reduceMean(g, xr, [1, 3]), 'flat_mean');
  // float64 reference (the field is materialised in float32 first, as on the GPU).
  const n = (C / G) * H * W;
  const want = { mean: [] as number[], variance: [] as number[] };
  for (let gi = 0; gi < G; gi++) {
    let s = 0;
    for (let c = gi * (C / G); c < (gi + 1) * (C / G); c++) for (let h = 0; h < H; h++) for (let w = 0; w < W; w++) s += Math.fround(a[c * H + h]! + b[c * W + w]!);
    const m = s / n;
    let v = 0;
    for (let c = gi * (C / G); c < (gi + 1) * (C / G); c++) for (let h = 0; h < H; h++) for (let w = 0; w < W; w++) v += (Math.fround(a[c * H + h]! + b[c * W + w]!) - m) ** 2;
    want.mean.push(m);
    want.variance.push(v / n);
  }
  await openOrtPage(page, { model: g.encode() });
  const res = await runOnWebGpu(page, 'model', { a: { dtype: 'float32', dims: [1, C, H, 1], data: Array.from(a) }, b: { dtype: 'float32', dims: [1, C, 1, W], data: Array.from(b) } });
  expect(res.error, res.error).toBeUndefined();
  expect(cpuPlacedNodes(res.log), 'nodes placed on the CPU').toEqual([]);
  const rel = (k: 'mean' | 'variance' | 'flat_mean', ref: number[]) => Math.max(...ref.map((r, i) => Math.abs(res.outputs[k]!.data[i]! - r) / Math.abs(r)));
  const meanErr = rel('mean', want.mean);
  const varErr = rel('variance', want.variance);
  console.log(`WebGPU GroupNorm stats over ${n} elements: two-stage mean rel. error ${meanErr.toExponential(2)}, variance ${varErr.toExponential(2)}; one flat ReduceMean ${rel('flat_mean', want.mean).toExponential(2)}`);
  // A few float32 ulps (2^-23 ≈ 1.2e-7).
  expect(meanErr).toBeLessThan(2e-6);
  expect(varErr).toBeLessThan(2e-6);
});

test('@slow sd_vae_fullres decoder, 8×8 latent tile → 64×64 on WebGPU, matches onnxruntime-node', async ({ page }) => {
  test.setTimeout(600_000);
  const cfg = JSON.parse(readFileSync(join(DIR, 'config.json'), 'utf8')) as VaeConfig;
  const latent = readSafetensorsFile(join(DIR, 'inputs.safetensors')).get('latent')!;
  const [, c, h, w] = latent.shape as number[];
  const [th, tw, top, left] = [8, 8, 16, 24];
  const full = latent.read();
  const tile = new Float32Array(c! * th * tw);
  for (let ci = 0; ci < c!; ci++) for (let y = 0; y < th; y++) for (let x = 0; x < tw; x++) tile[(ci * th + y) * tw + x] = full[(ci * h! + top + y) * w! + left + x]!;
  const g = new GraphBuilder('vae_dec_tile');
  buildVaeDecoder({ g, p: new Params(readSafetensorsFile(join(DIR, 'weights.safetensors')), DIR), precision: 'fp32', maxTensorBytes: DEFAULT_MAX_TENSOR_BYTES }, cfg, { batch: 1, height: th, width: tw });
  const ref = (await runGraph(g, { latent: { dtype: 'float32', shape: [1, c!, th, tw], data: tile } })).decoded!;
  await openOrtPage(page, { model: g.encode() });
  const res = await runOnWebGpu(page, 'model', { latent: { dtype: 'float32', dims: [1, c!, th, tw], data: Array.from(tile) } });
  expect(res.error, res.error).toBeUndefined();
  expect(cpuPlacedNodes(res.log), 'nodes placed on the CPU').toEqual([]);
  expect(res.outputs.decoded!.dims).toEqual([...ref.shape]);
  const { diff, refMax } = maxAbsDiff(res.outputs.decoded!.data, ref.data as Float32Array);
  console.log(`sd_vae_fullres decoder tile on WebGPU: max |webgpu − node| ${diff.toExponential(2)} (max |ref| ${refMax.toFixed(3)})`);
  expect(diff).toBeLessThanOrEqual(TOL(refMax));
});
