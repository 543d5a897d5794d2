// Stage 3 (LAVIE.md §8.3): ×4 super-resolution of the previous stage's frames, same frame count and
// fps, in windows of frames and spatial tiles. Its networks are large at full size, so it runs in
// phases (memory.ts): the x4 text encoder alone (its embeddings are small and stay), then per window
// length its UNet graph with the x4 VAE decoder — the 8-frame graph and the shorter tail graph hold
// separate copies of the same weights, so they never need to be loaded together.
import type { GraphComponent, PackManifest } from '../../packs/manifest.ts';
import { requestFrames, type StageVideo } from '../../protocol.ts';
import { promptOverFrames } from '../prompt-schedule.ts';
import { planTiles } from '../pipeline/tiles.ts';
import { runVsrStage, vsrWindows } from '../pipeline/vsr-stage.ts';
import { createVsrSampler, lowResNoiseCoeffs } from '../schedulers/index.ts';
import { relativeCost, type CascadeStage, type Embeddings, type StageNetwork, type StagePhase } from './cascade-stage.ts';

const textPhase = (m: PackManifest): StagePhase => {
  const c = m.components.vsr!;
  return { name: 'vsr-text', networks: [{ name: 'vsr', c: c.textEncoder, text: true, parts: { textEncoder: c.textEncoder, tokenizerFiles: c.tokenizer.files } }] };
};

/** The UNet graph for a window of `frames` (the pack's window length, or a tail graph; null: the pack has none). */
function unetFor(m: PackManifest, frames: number): StageNetwork | null {
  const c = m.components.vsr!;
  if (frames === m.stages.vsr!.windowFrames) return { name: 'vsr_unet', c: c.unet };
  const t: GraphComponent | undefined = c.unetTails.find((u) => u.frames === frames);
  return t ? { name: `vsr_unet_f${frames}`, c: t } : null;
}

const windowPhase = (m: PackManifest, unet: StageNetwork): StagePhase =>
  ({ name: `vsr-${unet.name}`, networks: [unet, { name: 'vsr_vae_decoder', c: m.components.vsr!.vaeDecoder }] });

/** The text phase, then one phase per window length in the order the windows run. */
function phases(m: PackManifest, input: StageVideo): StagePhase[] {
  const lengths = [...new Set(vsrWindows(input.frames, m.stages.vsr!.windowFrames).map((w) => w.frames))];
  return [textPhase(m), ...lengths.flatMap((f) => { const u = unetFor(m, f); return u ? [windowPhase(m, u)] : []; })];
}

/** UNet tiles per window and step, and x4 VAE tiles per frame, at the pack's latent size. */
export function vsrTiles(m: PackManifest): { unet: number; vae: number } {
  const v = m.stages.vsr!;
  return {
    unet: planTiles(v.latent.height, v.latent.width, v.tile.height, v.tile.width, v.tile.overlap).tiles.length,
    vae: planTiles(v.latent.height, v.latent.width, v.vaeTile.height, v.vaeTile.width, v.vaeTile.overlap).tiles.length,
  };
}

export const vsrStage: CascadeStage = {
  name: 'vsr',
  offered: (m) => !!(m.stages.vsr && m.components.vsr),
  output: (m, _req, input) => ({ frames: input!.frames, width: input!.width * m.stages.vsr!.scale, height: input!.height * m.stages.vsr!.scale, fps: input!.fps }),
  work: (m, _req, input) => {
    const v = m.stages.vsr!;
    const c = m.components.vsr!;
    const tiles = vsrTiles(m);
    return {
      denoise: vsrWindows(input!.frames, v.windowFrames).length * v.steps * tiles.unet * relativeCost(m, c.unet),
      decode: input!.frames * tiles.vae * relativeCost(m, c.vaeDecoder),
    };
  },
  phases: (m, _req, input) => phases(m, input!),
  async run(env, r) {
    const m = env.source.manifest;
    const v = m.stages.vsr!;
    const c = m.components.vsr!;
    r.onProgress({ phase: 'load', step: 0, total: 1 });
    const text = await env.enter(textPhase(m));
    r.onProgress({ phase: 'text', step: 0, total: 1 });
    const sequential = c.unet.inputs.find((i) => i.name === 'sample')?.shape[0] === 1;
    // LaVie's VSR negative prompt ("blur, worst quality") with the user's prompt (see README); with
    // prompts over frame ranges each window reads the range covering most of its base frames.
    const windows = vsrWindows(r.input.length, v.windowFrames);
    const base = r.req.frames === undefined ? m.stages.base.frames : requestFrames(r.req);
    // Base time of input frame n (the base video itself, or 4·L − 3 interpolated frames).
    const baseTime = (n: number) => (r.input.length > 1 ? (n * (base - 1)) / (r.input.length - 1) : 0);
    const prompts = windows.map((w) => promptOverFrames(r.req, Math.floor(baseTime(w.start)), Math.ceil(baseTime(w.start + w.frames - 1))));
    const texts = new Map<string, Embeddings>();
    try {
      for (const p of prompts) if (!texts.has(p)) texts.set(p, await env.embed(text.encoder('vsr'), v.negativePrompt, p, sequential));
      const emb = texts.get(prompts[0]!)!;
      // Each window's graph: entering its phase releases the text encoder (and the previous length's
      // graph) when the budget requires it.
      let current = 0;
      const models = async (frames: number) => {
        const u = unetFor(m, frames);
        if (!u) throw new Error(`VSR: no UNet graph for a ${frames}-frame window`);
        // A new graph may be created now: that time is no denoising rate (app/eta.ts).
        if (frames !== current) r.onProgress({ phase: 'load', step: 0, total: 1 });
        current = frames;
        const s = await env.enter(windowPhase(m, u));
        return { unet: s.session(u.name), vaeDecoder: s.session('vsr_vae_decoder') };
      };
      await runVsrStage(env.rt, models, {
        input: r.input,
        plan: createVsrSampler(v.steps),
        guidanceScale: v.guidanceScale,
        windowFrames: v.windowFrames,
        latentChannels: v.latent.channels,
        tile: v.tile,
        vaeTile: v.vaeTile,
        scale: v.scale,
        noiseLevel: v.noiseLevel,
        lowResNoise: lowResNoiseCoeffs(v.noiseLevel),
        embeddings: emb.pair,
        sequentialCfg: emb.halves,
        windowText: (w) => {
          const e = texts.get(prompts[w]!)!;
          return { embeddings: e.pair, ...(e.halves ? { sequentialCfg: e.halves } : {}) };
        },
        scalingFactor: v.vaeScalingFactor,
        noise: r.noise,
      }, { signal: r.signal, onProgress: r.onProgress, onFrame: r.onFrame });
    } finally {
      for (const e of texts.values()) e.free();
    }
  },
};
