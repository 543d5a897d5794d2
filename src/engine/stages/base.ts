// Stage 1 (LAVIE.md §8.1): prompt → denoised latent video → decoded frames, at the pack's base size.
import type { PackManifest } from '../../packs/manifest.ts';
import { runBaseStage } from '../pipeline/base-stage.ts';
import type { BetaSchedule } from '../schedulers/alphas.ts';
import { createSampler } from '../schedulers/index.ts';
import { relativeCost, type CascadeStage, type StageEnv } from './cascade-stage.ts';

// One after another: each session's weights pass through memory while it is created.
async function sessions(env: StageEnv, m: PackManifest) {
  return [await env.session('base_unet', m.components.baseUnet), await env.session('vae_decoder', m.components.vaeDecoder)] as const;
}

export const baseStage: CascadeStage = {
  name: 'base',
  offered: () => true,
  // A base length other than the pack's (long videos) enters here, from the request.
  output: (m) => ({ frames: m.stages.base.frames, width: m.stages.base.width, height: m.stages.base.height, fps: m.stages.base.fps }),
  cost: (m, req) => req.steps + m.stages.base.frames * relativeCost(m, m.components.vaeDecoder),
  async preload(env) {
    await sessions(env, env.source.manifest);
  },
  async run(env, r) {
    const m = env.source.manifest;
    const b = m.stages.base;
    const [unet, vaeDecoder] = await sessions(env, m);
    r.onProgress({ phase: 'text', step: 0, total: 1 });
    const emb = await env.embed(env.text, r.req.negativePrompt, r.req.prompt, false);
    try {
      r.onProgress({ phase: 'text', step: 1, total: 1 });
      const plan = createSampler(r.req.sampler, r.req.steps, {
        numTrainTimesteps: b.sampler.numTrainTimesteps,
        betaStart: b.sampler.betaStart,
        betaEnd: b.sampler.betaEnd,
        betaSchedule: b.sampler.betaSchedule as BetaSchedule,
      });
      await runBaseStage(env.rt, { unet, vaeDecoder }, {
        plan,
        guidanceScale: r.req.guidanceScale,
        latent: b.latent,
        embeddings: emb.pair,
        noise: r.noise,
        scalingFactor: b.vaeScalingFactor,
        image: { height: r.output.height, width: r.output.width },
        previewEvery: Math.max(1, Math.round(r.req.steps / 10)),
      }, { signal: r.signal, onProgress: r.onProgress, onPreview: r.onPreview, onFrame: r.onFrame });
    } finally {
      emb.free();
    }
  },
};
