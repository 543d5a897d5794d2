// Stage 3 (LAVIE.md §8.3): ×4 super-resolution of the previous stage's frames, same frame count and
// fps, in windows of frames and spatial tiles. Its networks are large at full size: created on
// first use and kept for the pack's lifetime.
import type { PackManifest } from '../../packs/manifest.ts';
import { planTiles } from '../pipeline/tiles.ts';
import { runVsrStage, vsrWindows } from '../pipeline/vsr-stage.ts';
import type { ModelSession } from '../runtime/runtime.ts';
import { createVsrSampler, lowResNoiseCoeffs } from '../schedulers/index.ts';
import { relativeCost, type CascadeStage, type StageEnv, type StageNetwork } from './cascade-stage.ts';

const networks = (m: PackManifest): StageNetwork[] => {
  const c = m.components.vsr!;
  return [{ name: 'vsr_unet', c: c.unet }, ...c.unetTails.map((t) => ({ name: `vsr_unet_f${t.frames}`, c: t })), { name: 'vsr_vae_decoder', c: c.vaeDecoder }, { name: 'vsr', c: c.textEncoder, text: true }];
};

async function sessions(env: StageEnv, m: PackManifest) {
  const c = m.components.vsr!;
  const unets = new Map<number, ModelSession>();
  unets.set(m.stages.vsr!.windowFrames, await env.session('vsr_unet', c.unet));
  for (const t of c.unetTails) unets.set(t.frames, await env.session(`vsr_unet_f${t.frames}`, t));
  const vaeDecoder = await env.session('vsr_vae_decoder', c.vaeDecoder);
  const text = await env.textEncoder('vsr', { textEncoder: c.textEncoder, tokenizerFiles: c.tokenizer.files });
  return { unets, vaeDecoder, text };
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
  networks: (m) => networks(m),
  async run(env, r) {
    const m = env.source.manifest;
    const v = m.stages.vsr!;
    const c = m.components.vsr!;
    r.onProgress({ phase: 'load', step: 0, total: 1 });
    const s = await sessions(env, m);
    r.onProgress({ phase: 'text', step: 0, total: 1 });
    const sequential = c.unet.inputs.find((i) => i.name === 'sample')?.shape[0] === 1;
    // LaVie's VSR negative prompt ("blur, worst quality") with the user's prompt (see README).
    const emb = await env.embed(s.text, v.negativePrompt, r.req.prompt, sequential);
    try {
      await runVsrStage(env.rt, { unets: s.unets, vaeDecoder: s.vaeDecoder }, {
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
        scalingFactor: v.vaeScalingFactor,
        noise: r.noise,
      }, { signal: r.signal, onProgress: r.onProgress, onFrame: r.onFrame });
    } finally {
      emb.free();
    }
  },
};
