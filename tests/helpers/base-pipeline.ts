// Runs an official base-pipeline fixture (DDIM, CFG, injected latents and text embeddings) through
// our engine in Node: the UNet and VAE graphs built by our converter from the fixture weights, run
// by onnxruntime-node, driven by the same base-stage code the browser runs. Shared by the plain
// (pipeline_base) and FreeNoise (pipeline_freenoise) checks.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readSafetensorsFile } from '../../src/convert/cli/node-io.ts';
import { DEFAULT_MAX_TENSOR_BYTES, type NetCtx } from '../../src/convert/graphs/nn.ts';
import { Params } from '../../src/convert/graphs/params.ts';
import { buildBaseUNet, type UNet3DConfig } from '../../src/convert/graphs/unet3d.ts';
import { buildVaeDecoder, type VaeConfig } from '../../src/convert/graphs/vae.ts';
import { GraphBuilder } from '../../src/convert/onnx/graph.ts';
import type { TemporalWindows } from '../../src/engine/freenoise.ts';
import { runBaseStage } from '../../src/engine/pipeline/base-stage.ts';
import { createNodeRuntime } from '../../src/engine/runtime/node-runtime.ts';
import { createSession, type SessionCounters } from '../../src/engine/runtime/runtime.ts';
import { createSampler } from '../../src/engine/schedulers/index.ts';
import type { StateDict } from '../../src/convert/tensor.ts';
import { fixtureDir, maxAbsDiff } from './fixtures.ts';

const json = (p: string) => JSON.parse(readFileSync(p, 'utf8'));

export interface PipelineFixtureCheck {
  folder: string;
  /** Tensor names: `latents` (initial), `neg`, `pos` in inputs; `step(k, t)`, `video` in outputs. */
  names: { latents: string; neg: string; pos: string; step: (k: number, t: number) => string; video: string };
  windows?: TemporalWindows;
  /** Initial latents for the stage (default: the fixture's). */
  initial?: (io: StateDict) => Float32Array;
}

/** Returns the relative latent error per step and the worst uint8 difference of the frames. */
export async function runBasePipelineFixture(c: PipelineFixtureCheck): Promise<{ stepErrors: number[]; worst: number; differing: number; total: number }> {
  const pipeDir = fixtureDir(c.folder);
  const io = readSafetensorsFile(join(pipeDir, 'inputs.safetensors'));
  const ref = readSafetensorsFile(join(pipeDir, 'outputs.safetensors'));
  const meta = json(join(pipeDir, 'config.json'));
  const latentsIn = io.get(c.names.latents)!;
  const [, ch, f, h, w] = latentsIn.shape as number[];
  const neg = io.get(c.names.neg)!;
  const pos = io.get(c.names.pos)!;
  const [, L, D] = neg.shape as number[];

  const unetCfg = json(join(fixtureDir('base_unet'), 'config.json')) as UNet3DConfig;
  const vaeCfg = json(join(fixtureDir('sd_vae'), 'config.json')) as VaeConfig;
  const unetG = new GraphBuilder('unet');
  const unetCtx: NetCtx = { g: unetG, p: new Params(readSafetensorsFile(join(fixtureDir('base_unet'), 'weights.safetensors'))), precision: 'fp32', maxTensorBytes: DEFAULT_MAX_TENSOR_BYTES };
  buildBaseUNet(unetCtx, unetCfg, { batch: 2, frames: f!, height: h!, width: w! }, c.windows);
  const vaeG = new GraphBuilder('vae_decoder');
  const vaeCtx: NetCtx = { g: vaeG, p: new Params(readSafetensorsFile(join(fixtureDir('sd_vae'), 'weights.safetensors'))), precision: 'fp32', maxTensorBytes: DEFAULT_MAX_TENSOR_BYTES };
  buildVaeDecoder(vaeCtx, vaeCfg, { batch: 1, height: h!, width: w! });

  const rt = createNodeRuntime();
  const counters: SessionCounters = { sessionsCreated: 0, sessionsLive: 0, runs: 0 };
  const unet = await createSession(rt, 'unet', { model: unetG.encode() }, counters);
  const vaeDecoder = await createSession(rt, 'vae', { model: vaeG.encode() }, counters);

  const emb = rt.device.alloc([2, L!, D!]);
  const embData = new Float32Array(2 * L! * D!);
  embData.set(neg.read(), 0); // LaVie's CFG batch order: [uncond, cond]
  embData.set(pos.read(), L! * D!);
  rt.device.upload(emb, embData);

  const plan = createSampler('ddim', meta.call.num_inference_steps);
  assert.deepEqual(plan.steps.map((s) => s.t), meta.timesteps);

  const stepErrors: number[] = [];
  const frames: Uint8Array[] = [];
  await runBaseStage(rt, { unet, vaeDecoder }, {
    plan,
    guidanceScale: meta.call.guidance_scale,
    latent: { channels: ch!, frames: f!, height: h!, width: w! },
    embeddings: emb,
    noise: (stream) => {
      assert.equal(stream, 0, 'DDIM with eta 0 draws no noise after the initial latents');
      return c.initial ? c.initial(io) : latentsIn.read().slice();
    },
    scalingFactor: 0.18215,
    image: { height: 8 * h!, width: 8 * w! },
  }, {
    signal: new AbortController().signal,
    onProgress: () => {},
    onStep: async (k, x) => {
      const r = ref.get(c.names.step(k, meta.timesteps[k]))!.read();
      const { diff, refMax } = maxAbsDiff(await rt.device.read(x), r);
      stepErrors.push(diff / refMax);
    },
    onFrame: (fr) => { frames.push(fr.rgba); },
  });

  const video = ref.get(c.names.video)!; // [1, F, H, W, 3]
  const vref = video.read();
  const [, , H, W] = video.shape as number[];
  let worst = 0;
  let differing = 0;
  for (let fi = 0; fi < f!; fi++) for (let i = 0; i < H! * W!; i++) for (let k = 0; k < 3; k++) {
    const d = Math.abs(frames[fi]![4 * i + k]! - vref[(fi * H! * W! + i) * 3 + k]!);
    worst = Math.max(worst, d);
    if (d) differing++;
  }
  assert.equal(counters.sessionsCreated, 2);
  await unet.release();
  await vaeDecoder.release();
  return { stepErrors, worst, differing, total: f! * H! * W! * 3 };
}
