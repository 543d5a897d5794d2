// Stage 1 (LAVIE.md §8.1): prompt → denoised latent video → decoded frames, at the pack's base size.
// Longer videos (request `frames`, FreeNoise): the pack's windowed graph for that length and the
// seed's rescheduled initial noise; everything else is the same stage.
import type { GraphComponent, PackManifest } from '../../packs/manifest.ts';
import { BadRequestError, requestFrames, type GenerateRequest } from '../../protocol.ts';
import { freeNoiseSource } from '../freenoise.ts';
import { runBaseStage } from '../pipeline/base-stage.ts';
import type { BetaSchedule } from '../schedulers/alphas.ts';
import { createSampler } from '../schedulers/index.ts';
import { relativeCost, type CascadeStage, type StageEnv } from './cascade-stage.ts';

// One after another: each session's weights pass through memory while it is created.
async function sessions(env: StageEnv, m: PackManifest, unet: { name: string; c: GraphComponent } = { name: 'base_unet', c: m.components.baseUnet }) {
  return [await env.session(unet.name, unet.c), await env.session('vae_decoder', m.components.vaeDecoder)] as const;
}

/** The base UNet graph for the request's length (long ones are created on first use). */
function unetFor(m: PackManifest, req: GenerateRequest): { name: string; c: GraphComponent; frames: number } {
  const frames = req.frames === undefined ? m.stages.base.frames : requestFrames(req);
  if (frames === m.stages.base.frames) return { name: 'base_unet', c: m.components.baseUnet, frames };
  const c = m.components.longBaseUnets?.find((u) => u.frames === frames);
  if (!c) throw new BadRequestError(`This model pack makes no ${frames}-frame base video.`, 'frames');
  return { name: `base_unet_f${frames}`, c, frames };
}

/** The base stage's prompt: several prompts over ranges need per-frame-text graphs (base UNet option
 * perFrameText, src/engine/prompt-schedule.ts) that packs do not ship yet; one prompt for every range
 * is the single-prompt video. */
function basePrompt(req: GenerateRequest): string {
  const prompts = [...new Set((req.segments ?? []).map((g) => g.prompt))];
  if (prompts.length > 1) throw new BadRequestError('Different prompts over frame ranges are not available with this model pack yet.', 'segments');
  return prompts[0] ?? req.prompt;
}

/** The base lengths a pack offers. */
export function baseLengths(m: PackManifest): number[] {
  return [m.stages.base.frames, ...(m.components.longBaseUnets ?? []).map((u) => u.frames)];
}

export const baseStage: CascadeStage = {
  name: 'base',
  offered: () => true,
  // A base length other than the pack's (long videos) enters here, from the request.
  output: (m, req) => (basePrompt(req), { frames: unetFor(m, req).frames, width: m.stages.base.width, height: m.stages.base.height, fps: m.stages.base.fps }),
  cost: (m, req) => {
    const u = unetFor(m, req);
    const calls = u.c.inputs.find((i) => i.name === 'sample')?.shape[0] === 1 ? 2 : 1;
    return req.steps * calls * relativeCost(m, u.c) + u.frames * relativeCost(m, m.components.vaeDecoder);
  },
  async preload(env) {
    await sessions(env, env.source.manifest);
  },
  async run(env, r) {
    const m = env.source.manifest;
    const b = m.stages.base;
    const u = unetFor(m, r.req);
    const [unet, vaeDecoder] = await sessions(env, m, u);
    const latent = { ...b.latent, frames: u.frames };
    const sequential = u.c.inputs.find((i) => i.name === 'sample')?.shape[0] === 1;
    r.onProgress({ phase: 'text', step: 0, total: 1 });
    const emb = await env.embed(env.text, r.req.negativePrompt, basePrompt(r.req), sequential);
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
        latent,
        embeddings: emb.pair,
        ...(emb.halves ? { sequentialCfg: emb.halves } : {}),
        noise: freeNoiseSource(r.noise, r.req.seed, latent),
        scalingFactor: b.vaeScalingFactor,
        image: { height: r.output.height, width: r.output.width },
        previewEvery: Math.max(1, Math.round(r.req.steps / 10)),
      }, { signal: r.signal, onProgress: r.onProgress, onPreview: r.onPreview, onFrame: r.onFrame });
    } finally {
      emb.free();
    }
  },
};
