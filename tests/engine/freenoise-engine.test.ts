// Long base videos in the engine's denoising loop on tiny weights: the windowed base UNet built by
// our converter, FreeNoise's rescheduled seeded noise, DDIM — every step's latents finite, every
// frame covered by a window and changed by the sampler; the initial latents follow the shuffles.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { readSafetensorsFile } from '../../src/convert/cli/node-io.ts';
import { DEFAULT_MAX_TENSOR_BYTES } from '../../src/convert/graphs/nn.ts';
import { Params } from '../../src/convert/graphs/params.ts';
import { buildBaseUNet, type UNet3DConfig } from '../../src/convert/graphs/unet3d.ts';
import { GraphBuilder } from '../../src/convert/onnx/graph.ts';
import { FREENOISE_WINDOWS, freeNoiseSource, noisePermutations, sourceFrames, windowCoverage } from '../../src/engine/freenoise.ts';
import { gaussianNoise } from '../../src/engine/noise.ts';
import { denoise } from '../../src/engine/pipeline/denoise.ts';
import { createNodeRuntime } from '../../src/engine/runtime/node-runtime.ts';
import { createSession } from '../../src/engine/runtime/runtime.ts';
import { createSampler } from '../../src/engine/schedulers/index.ts';
import { fixtureDir } from '../helpers/fixtures.ts';

const dir = fixtureDir('base_unet');
const cfg = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as UNet3DConfig;
const weights = readSafetensorsFile(join(dir, 'weights.safetensors'));
const [C, H, W] = [4, 8, 16];

for (const frames of [24, 32]) {
  test(`FreeNoise base denoising at ${frames} frames (tiny, DDIM 3 steps): finite latents every step, every frame covered and updated`, async () => {
    assert.ok(windowCoverage(frames, FREENOISE_WINDOWS).every((c) => c > 0), 'every frame in a window');
    const g = new GraphBuilder('unet');
    buildBaseUNet({ g, p: new Params(weights), precision: 'fp32', maxTensorBytes: DEFAULT_MAX_TENSOR_BYTES }, cfg, { batch: 2, frames, height: H, width: W }, FREENOISE_WINDOWS);
    const rt = createNodeRuntime();
    const unet = await createSession(rt, 'unet', { model: g.encode() }, { sessionsCreated: 0, sessionsLive: 0, runs: 0 });
    const latent = { channels: C, frames, height: H, width: W };
    const seed = 11;
    const noise = freeNoiseSource((s, n) => gaussianNoise(seed, s, n), seed, latent);
    // The initial latents repeat earlier frames exactly as the shuffles say.
    const init = noise(0, C * frames * H * W);
    const src = sourceFrames(frames, noisePermutations(seed, frames));
    const plane = H * W;
    for (let t = 16; t < frames; t++) assert.deepEqual(init.subarray(t * plane, (t + 1) * plane), init.subarray(src[t]! * plane, (src[t]! + 1) * plane));

    const text = rt.device.alloc([2, 77, cfg.cross_attention_dim]);
    rt.device.upload(text, gaussianNoise(3, 0, 2 * 77 * cfg.cross_attention_dim));
    const x = rt.device.alloc([1, C, frames, H, W]);
    const steps: Float32Array[] = [];
    await denoise(rt, unet, x, { plan: createSampler('ddim', 3), guidanceScale: 7.5, latent, embeddings: text, noise }, {
      signal: new AbortController().signal,
      onProgress: () => {},
      onStep: async (_k, t) => { steps.push(await rt.device.read(t)); },
    });
    assert.equal(steps.length, 3);
    for (const [k, s] of steps.entries()) assert.ok(s.every(Number.isFinite), `step ${k}: finite`);
    // Each frame of the result moved away from its initial noise.
    const last = steps.at(-1)!;
    const moved = Array.from({ length: frames }, (_, f) => {
      let d = 0;
      for (let ch = 0; ch < C; ch++) for (let i = 0; i < plane; i++) d = Math.max(d, Math.abs(last[(ch * frames + f) * plane + i]! - init[(ch * frames + f) * plane + i]!));
      return d;
    });
    assert.ok(moved.every((d) => d > 1e-3), `every frame updated: ${moved.map((d) => d.toFixed(3))}`);
    await unet.release();
  });
}
