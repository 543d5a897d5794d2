// Stage 2 (LAVIE.md §8.2): temporal interpolation, F frames → 4·F − 3 at the pack's interpolation
// fps. The pack's graph takes one 16-frame segment; a longer input (long videos) is this stage's
// business: overlapping segments that share their boundary frames give the same 4·F − 3 frames.
// Prompt as LaVie's script builds it (with its ", 4k." suffix); the negative prompt is the user's
// (the script's literal "None" is a YAML accident — see README). With prompts over frame ranges each
// segment reads the text of the range covering most of its base frames (promptOverFrames).
import type { PackManifest } from '../../packs/manifest.ts';
import { interpOutputFrames, interpSegments } from '../pipeline/interp-segments.ts';
import { promptOverFrames } from '../prompt-schedule.ts';
import { runInterpStage } from '../pipeline/interp-stage.ts';
import { interpDdimPlan } from '../schedulers/index.ts';
import type { ModelSession } from '../runtime/runtime.ts';
import { relativeCost, type CascadeStage, type Embeddings, type StageEnv, type StageNetwork, type StagePhase } from './cascade-stage.ts';

/** Noise streams per segment (stream 0 initial latents, 1000 + i posterior samples). */
const SEGMENT_STREAMS = 100_000;

const networks = (m: PackManifest): StageNetwork[] =>
  [{ name: 'vae_encoder', c: m.components.vaeEncoder! }, { name: 'interp_unet', c: m.components.interpUnet! }, { name: 'vae_decoder', c: m.components.vaeDecoder }];

/** One phase: encoder, UNet and decoder take turns on every segment. */
const phase = (m: PackManifest): StagePhase => ({ name: 'interp', networks: networks(m) });

async function sessions(env: StageEnv, m: PackManifest) {
  const p = phase(m);
  const s = await env.enter(p);
  return p.networks.map((n) => s.session(n.name)) as [ModelSession, ModelSession, ModelSession];
}

export const interpStage: CascadeStage = {
  name: 'interp',
  offered: (m) => !!(m.stages.interp && m.components.interpUnet && m.components.vaeEncoder),
  output: (m, _req, input) => ({ frames: interpOutputFrames(input!.frames), width: input!.width, height: input!.height, fps: m.stages.interp!.fps }),
  work: (m, _req, input) => {
    const out = interpOutputFrames(input!.frames);
    const segments = interpSegments(input!.frames, m.stages.base.frames).length;
    return {
      condition: input!.frames * relativeCost(m, m.components.vaeEncoder!),
      denoise: segments * m.stages.interp!.steps * relativeCost(m, m.components.interpUnet!),
      decode: out * relativeCost(m, m.components.vaeDecoder),
    };
  },
  phases: (m) => [phase(m)],
  async run(env, r) {
    const m = env.source.manifest;
    const interp = m.stages.interp!;
    const [vaeEncoder, unet, vaeDecoder] = await sessions(env, m);
    const sequential = m.components.interpUnet!.inputs.find((i) => i.name === 'sample')?.shape[0] === 1;
    const size = m.stages.base.frames;
    // A long base video: 16-frame segments sharing boundary frames, each output frame from one segment.
    const segments = interpSegments(r.input.length, size);
    // Each distinct segment text encoded once.
    const texts = new Map<string, Embeddings>();
    const embed = async (prompt: string) => {
      let e = texts.get(prompt);
      if (!e) texts.set(prompt, (e = await env.embed(env.text, r.req.negativePrompt, prompt + interp.promptSuffix, sequential)));
      return e;
    };
    try {
      r.onProgress({ phase: 'text', step: 0, total: 1 });
      const prompts = segments.map((seg) => promptOverFrames(r.req, seg.start, seg.start + size - 1));
      for (const p of prompts) await embed(p);
      r.onProgress({ phase: 'text', step: 1, total: 1 });
      for (const [k, seg] of segments.entries()) {
        const emb = texts.get(prompts[k]!)!;
        const where = segments.length > 1 ? { segment: k + 1, segments: segments.length } : {};
        await runInterpStage(env.rt, { vaeEncoder, unet, vaeDecoder }, {
          input: r.input.slice(seg.start, seg.start + size),
          plan: interpDdimPlan(interp.steps),
          guidanceScale: interp.guidanceScale,
          latent: interp.latent,
          embeddings: emb.pair,
          sequentialCfg: emb.halves,
          scalingFactor: m.stages.base.vaeScalingFactor,
          noise: (stream, count) => r.noise(k * SEGMENT_STREAMS + stream, count),
          previewEvery: Math.max(1, Math.round(interp.steps / 10)),
        }, {
          signal: r.signal,
          // Denoising steps count over all segments (the ETA scales with the steps left in total).
          onProgress: (p) => r.onProgress(p.phase !== 'denoise' ? { ...p, ...where } : {
            ...p, ...where, step: k * p.total + p.step, total: segments.length * p.total,
            ...(p.etaMs !== undefined && p.total > p.step ? { etaMs: (p.etaMs * (segments.length * p.total - k * p.total - p.step)) / (p.total - p.step) } : {}),
          }),
          onPreview: r.onPreview,
          onFrame: (f) => (f.index >= seg.from && f.index < seg.to ? r.onFrame({ ...f, index: 4 * seg.start + f.index }) : undefined),
        });
      }
    } finally {
      for (const e of texts.values()) e.free();
    }
  },
};
