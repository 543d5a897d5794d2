// The interpolation stage's pieces against LaVie's own construction: the condition-frame mapping
// (built here literally as interpolation/sample.py does it), and guidance as forward_with_cfg
// computes it (fixture out_forward_with_cfg), run through our graph and our device kernel.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { DEFAULT_MAX_TENSOR_BYTES } from '../../src/convert/graphs/nn.ts';
import { Params } from '../../src/convert/graphs/params.ts';
import { buildInterpUNet, type UNet3DConfig } from '../../src/convert/graphs/unet3d.ts';
import { GraphBuilder } from '../../src/convert/onnx/graph.ts';
import { runGraph } from '../../src/convert/runtime/node-run.ts';
import { conditionSource, rgbaToImage } from '../../src/engine/pipeline/interp-stage.ts';
import { createNodeRuntime } from '../../src/engine/runtime/node-runtime.ts';
import { fixtureDir, maxAbsDiff } from '../helpers/fixtures.ts';
import { readFileSync } from 'node:fs';
import { readSafetensorsFile } from '../../src/convert/cli/node-io.ts';

test('condition frames: output j uses original ⌊(j+1)/4⌋, as sample.py builds it', () => {
  // sample.py: 61 indices linspace(0,15,61).astype(int); keep every 4th of the encoded 61;
  // repeat_interleave ×4; drop the first and the last two.
  const idx = Array.from({ length: 61 }, (_, i) => Math.trunc((15 * i) / 60));
  const kept = idx.filter((_, i) => i % 4 === 0);
  assert.deepEqual(kept, Array.from({ length: 16 }, (_, i) => i), 'every 4th resampled frame is one original');
  const repeated = kept.flatMap((k) => [k, k, k, k]).slice(1, -2);
  assert.equal(repeated.length, 61);
  assert.deepEqual(Array.from({ length: 61 }, (_, j) => conditionSource(j, 16)), repeated);
});

test('frames are normalised to [−1, 1] per channel, planar', () => {
  const img = rgbaToImage({ index: 0, width: 2, height: 1, rgba: Uint8Array.of(0, 255, 51, 255, 255, 0, 204, 255) });
  assert.deepEqual(Array.from(img, (v) => Math.round(v * 100) / 100), [-1, 1, 1, -1, -0.6, 0.6]);
});

test('guidance matches forward_with_cfg (interp_unet fixture, g = 4)', async () => {
  const dir = fixtureDir('interp_unet');
  const cfg = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as UNet3DConfig;
  const io = readSafetensorsFile(join(dir, 'inputs.safetensors'));
  const ref = readSafetensorsFile(join(dir, 'outputs.safetensors')).get('out_forward_with_cfg')!;
  const xt = io.get('x_t')!;
  const xc = io.get('x_cond')!;
  const ehs = io.get('encoder_hidden_states')!; // [cond, uncond] as LaVie's interp batch
  const [b, c, f, h, w] = xt.shape as number[];
  const g = new GraphBuilder('interp');
  buildInterpUNet({ g, p: new Params(readSafetensorsFile(join(dir, 'weights.safetensors'))), precision: 'fp32', maxTensorBytes: DEFAULT_MAX_TENSOR_BYTES }, cfg, { batch: b!, frames: f!, height: h!, width: w! });
  // forward_with_cfg runs the first half twice. Our engine orders the text batch [uncond, cond].
  const half = (t: Float32Array) => t.subarray(0, t.length / 2);
  const twice = (t: Float32Array) => { const o = new Float32Array(t.length * 2); o.set(t); o.set(t, t.length); return o; };
  const e = ehs.read();
  const swapped = new Float32Array(e.length);
  swapped.set(e.subarray(e.length / 2), 0);
  swapped.set(e.subarray(0, e.length / 2), e.length / 2);
  const out = await runGraph(g, {
    sample: { dtype: 'float32', shape: xt.shape, data: twice(half(xt.read())) },
    condition: { dtype: 'float32', shape: xc.shape, data: twice(half(xc.read())) },
    timestep: { dtype: 'float32', shape: [1], data: Float32Array.of(io.get('timestep_f32')!.read()[0]!) },
    encoder_hidden_states: { dtype: 'float32', shape: ehs.shape, data: swapped },
  });
  const rt = createNodeRuntime();
  const n = c! * f! * h! * w!;
  const eps2 = rt.device.alloc([2, c!, f!, h!, w!]);
  const x = rt.device.alloc([1, c!, f!, h!, w!]);
  rt.device.upload(eps2, out.out!.data as Float32Array);
  rt.device.upload(x, new Float32Array(n));
  rt.device.guidedUpdate(x, x, eps2, null, { g: 4, a: 0, b: 1, c: 0 }); // x = ε_u + 4·(ε_c − ε_u)
  const got = await rt.device.read(x);
  const { diff, refMax } = maxAbsDiff(got, ref.read().subarray(0, n));
  console.log(`interp CFG: max |diff| ${diff.toExponential(2)} (max |ref| ${refMax.toFixed(3)})`);
  assert.ok(diff <= 1e-4 * Math.max(1, refMax), `diff ${diff}`);
});
