// Stage 1 (LAVIE.md §8.1): prompt → denoised latent video → decoded frames, at the pack's base size.
// Longer videos (request `frames`, FreeNoise): the pack's windowed graph for that length and the
// seed's rescheduled initial noise; everything else is the same stage.
import type { GraphComponent, PackManifest } from '../../packs/manifest.ts';
import { BadRequestError, requestFrames, type GenerateRequest } from '../../protocol.ts';
import { freeNoiseSource } from '../freenoise.ts';
import { promptSchedule, type PromptSchedule } from '../prompt-schedule.ts';
import { runBaseStage } from '../pipeline/base-stage.ts';
import type { BetaSchedule } from '../schedulers/alphas.ts';
import { createSampler } from '../schedulers/index.ts';
import { relativeCost, type CascadeStage, type StageEnv, type StageNetwork, type StagePhase } from './cascade-stage.ts';

const networks = (m: PackManifest, unet: { name: string; c: GraphComponent } = { name: 'base_unet', c: m.components.baseUnet }): StageNetwork[] =>
  [{ name: unet.name, c: unet.c }, { name: 'vae_decoder', c: m.components.vaeDecoder }];

/** One phase: the UNet and the decoder that follows it are held together. */
const phase = (m: PackManifest, unet?: { name: string; c: GraphComponent }): StagePhase => ({ name: 'base', networks: networks(m, unet) });

async function sessions(env: StageEnv, m: PackManifest, unet?: { name: string; c: GraphComponent }) {
  const p = phase(m, unet);
  const s = await env.enter(p);
  return [s.session(p.networks[0]!.name), s.session(p.networks[1]!.name)] as const;
}

/** The base UNet graph for the request's length (long ones are created on first use). */
function unetFor(m: PackManifest, req: GenerateRequest): { name: string; c: GraphComponent; frames: number } {
  const frames = req.frames === undefined ? m.stages.base.frames : requestFrames(req);
  if (frames === m.stages.base.frames) return { name: 'base_unet', c: m.components.baseUnet, frames };
  const c = m.components.longBaseUnets?.find((u) => u.frames === frames);
  if (!c) throw new BadRequestError(`This model pack makes no ${frames}-frame base video.`, 'frames');
  return { name: `base_unet_f${frames}`, c, frames };
}

/** Whether a base UNet graph takes one text context per frame (packs' long graphs; src/engine/prompt-schedule.ts). */
function perFrameText(c: GraphComponent): boolean {
  const rows = c.inputs.find((i) => i.name === 'encoder_hidden_states')?.shape[0];
  return rows !== undefined && rows > (c.inputs.find((i) => i.name === 'sample')?.shape[0] ?? 2);
}

/** The base stage's text: a per-frame schedule for graphs that take one, else the one prompt (several
 * different prompts over ranges need a per-frame-text graph: packs converted before them have none). */
function basePrompt(req: GenerateRequest, u: { c: GraphComponent; frames: number }): string | PromptSchedule {
  const schedule = promptSchedule(req, u.frames);
  if (perFrameText(u.c)) return schedule;
  if (schedule.prompts.length > 1) throw new BadRequestError('Different prompts over frame ranges need a model pack converted with per-frame text (this one is older): convert it again.', 'segments');
  return schedule.prompts[0]!;
}

/** The base lengths a pack offers. */
export function baseLengths(m: PackManifest): number[] {
  return [m.stages.base.frames, ...(m.components.longBaseUnets ?? []).map((u) => u.frames)];
}

export const baseStage: CascadeStage = {
  name: 'base',
  offered: () => true,
  // A base length other than the pack's (long videos) enters here, from the request.
  output: (m, req) => {
    const u = unetFor(m, req);
    basePrompt(req, u); // refused at planning, before any GPU work
    return { frames: u.frames, width: m.stages.base.width, height: m.stages.base.height, fps: m.stages.base.fps };
  },
  work: (m, req) => {
    const u = unetFor(m, req);
    const calls = u.c.inputs.find((i) => i.name === 'sample')?.shape[0] === 1 ? 2 : 1;
    // A long graph costs its length over the pack's times a plain call: linear in frames (FreeNoise's
    // windows overlap only inside temporal attention, a small part). Its node count is no measure:
    // windows add nodes, the per-frame convolutions do not.
    const perCall = relativeCost(m, m.components.baseUnet) * (u.frames / m.stages.base.frames);
    return { denoise: req.steps * calls * perCall, decode: u.frames * relativeCost(m, m.components.vaeDecoder) };
  },
  phases: (m, req) => [phase(m, unetFor(m, req))],
  async run(env, r) {
    const m = env.source.manifest;
    const b = m.stages.base;
    const u = unetFor(m, r.req);
    const [unet, vaeDecoder] = await sessions(env, m, u);
    const latent = { ...b.latent, frames: u.frames };
    const sequential = u.c.inputs.find((i) => i.name === 'sample')?.shape[0] === 1;
    r.onProgress({ phase: 'text', step: 0, total: 1 });
    const emb = await env.embed(env.text, r.req.negativePrompt, basePrompt(r.req, u), sequential);
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
