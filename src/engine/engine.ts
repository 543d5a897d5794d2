// The generation engine: one pack, one runtime, sessions created once at load and reused for every
// generation. DOM-free: the worker runs it on onnxruntime-web/WebGPU, tests and CLIs on
// onnxruntime-node.
import type { GenerateRequest, PackInfo, Stage, StageVideo } from '../protocol.ts';
import { graphVariant, packBytes, type GraphComponent } from '../packs/manifest.ts';
import type { PackSource } from '../packs/pack-source.ts';
import { gaussianNoise } from './noise.ts';
import { runBaseStage } from './pipeline/base-stage.ts';
import { runInterpStage } from './pipeline/interp-stage.ts';
import { planTiles } from './pipeline/tiles.ts';
import { runVsrStage } from './pipeline/vsr-stage.ts';
import type { StageProgress } from './pipeline/stage.ts';
import type { DeviceTensor } from './runtime/device.ts';
import { createSession, type ModelSession, type Runtime, type SessionCounters } from './runtime/runtime.ts';
import type { BetaSchedule } from './schedulers/alphas.ts';
import { createSampler, createVsrSampler, interpDdimPlan, lowResNoiseCoeffs } from './schedulers/index.ts';
import { createClipTextEncoder, type PromptEncoder } from './text/text-encoder.ts';
import type { GenerateHooks, GenerationEngine, GenerationResult, RgbaFrame } from './types.ts';

export interface LoadProgress { loaded: number; total: number; file: string }

async function loadGraph(rt: Runtime, pack: PackSource, name: string, c: GraphComponent, counters: SessionCounters, onBytes: (n: number, file: string) => void): Promise<ModelSession> {
  const { file } = graphVariant(c, rt.compute);
  const model = await pack.read(file.path);
  // Progress counts both variants: the pack's total (packBytes) includes both .onnx files.
  onBytes(c.graph.bytes + (c.graphF16?.bytes ?? 0), file.path);
  // Shards from storage go to ORT as Blobs (read by ORT once, never copied by us first).
  const externalData: { path: string; data: Uint8Array | Blob }[] = [];
  for (const f of c.externalData) {
    externalData.push({ path: f.path.split('/').pop()!, data: pack.blob && rt.blobExternalData ? await pack.blob(f.path) : await pack.read(f.path) });
    onBytes(f.bytes, f.path);
  }
  return createSession(rt, name, { model, externalData }, counters);
}

/** Noise stream bases per stage, so stages never share draws for one seed. */
const NOISE_BASE = { base: 0, interp: 1 << 20, vsr: 2 << 20 } as const;

interface VsrSessions { text: PromptEncoder; unets: Map<number, ModelSession>; vaeDecoder: ModelSession }

export class LaVieEngine implements GenerationEngine {
  readonly counters: SessionCounters;

  get lost(): Promise<unknown> | undefined {
    return this.rt.lost;
  }

  private constructor(
    private readonly rt: Runtime,
    private readonly source: PackSource,
    readonly pack: PackInfo,
    private readonly text: PromptEncoder,
    private readonly sessions: { unet: ModelSession; vaeDecoder: ModelSession; vaeEncoder?: ModelSession; interpUnet?: ModelSession },
    counters: SessionCounters,
    private readonly textDevice: 'webgpu' | 'wasm' | 'cpu',
  ) {
    this.counters = counters;
  }

  /** VSR sessions are created on first use (they are large at full size) and kept for the pack's lifetime. */
  private vsr: Promise<VsrSessions> | null = null;
  private vsrSessions(): Promise<VsrSessions> {
    const c = this.source.manifest.components.vsr;
    if (!c) throw new RangeError('This model pack has no super-resolution stage.');
    this.vsr ??= (async () => {
      const noBytes = () => {};
      const text = await createClipTextEncoder(this.source, { device: this.textDevice, sessionOptions: this.rt.sessionOptions() as Record<string, unknown>, parts: { textEncoder: c.textEncoder, tokenizerFiles: c.tokenizer.files } });
      const unets = new Map<number, ModelSession>();
      unets.set(this.source.manifest.stages.vsr!.windowFrames, await loadGraph(this.rt, this.source, 'vsr_unet', c.unet, this.counters, noBytes));
      for (const t of c.unetTails) unets.set(t.frames, await loadGraph(this.rt, this.source, `vsr_unet_f${t.frames}`, t, this.counters, noBytes));
      const vaeDecoder = await loadGraph(this.rt, this.source, 'vsr_vae_decoder', c.vaeDecoder, this.counters, noBytes);
      return { text, unets, vaeDecoder };
    })();
    this.vsr.catch(() => { this.vsr = null; });
    return this.vsr;
  }

  static async load(rt: Runtime, source: PackSource, opts: { onProgress?: (p: LoadProgress) => void; textDevice?: 'webgpu' | 'wasm' | 'cpu' } = {}): Promise<LaVieEngine> {
    const m = source.manifest;
    const counters: SessionCounters = { sessionsCreated: 0, sessionsLive: 0, runs: 0 };
    const total = packBytes(m);
    let loaded = 0;
    const onBytes = (n: number, file: string) => {
      loaded += n;
      opts.onProgress?.({ loaded, total, file });
    };
    const text = await createClipTextEncoder(source, { device: opts.textDevice ?? (rt.provider === 'webgpu' ? 'webgpu' : rt.provider === 'wasm' ? 'wasm' : 'cpu'), sessionOptions: rt.sessionOptions() as Record<string, unknown> });
    // (The VSR stage's x4 text encoder and networks are loaded on first use: see vsrSessions.)
    const sessions: LaVieEngine['sessions'] = {
      unet: await loadGraph(rt, source, 'base_unet', m.components.baseUnet, counters, onBytes),
      vaeDecoder: await loadGraph(rt, source, 'vae_decoder', m.components.vaeDecoder, counters, onBytes),
    };
    const interp = m.stages.interp;
    if (interp && m.components.interpUnet && m.components.vaeEncoder) {
      sessions.vaeEncoder = await loadGraph(rt, source, 'vae_encoder', m.components.vaeEncoder, counters, onBytes);
      sessions.interpUnet = await loadGraph(rt, source, 'interp_unet', m.components.interpUnet, counters, onBytes);
    }
    const b = m.stages.base;
    const v = m.stages.vsr;
    const vsrTiles = v ? planTiles(v.latent.height, v.latent.width, v.tile.height, v.tile.width, v.tile.overlap).tiles.length : 0;
    const info: PackInfo = {
      name: m.name,
      bytes: total,
      testWeights: m.testWeights,
      width: b.width,
      height: b.height,
      frames: b.frames,
      fps: b.fps,
      defaults: { steps: b.sampler.steps, guidanceScale: b.sampler.guidanceScale, sampler: b.sampler.default },
      device: rt.provider,
      compute: graphVariant(m.components.baseUnet, rt.compute).compute,
      stages: {
        ...(interp ? { interp: { frames: interp.frames, width: b.width, height: b.height, fps: interp.fps } } : {}),
        ...(v && m.components.vsr ? {
          vsr: {
            frames: b.frames, width: v.width, height: v.height, fps: b.fps, scale: v.scale, tiles: vsrTiles, steps: v.steps,
            ...(m.components.vsr.unet.largestTensorBytes ? { largestTensorBytes: Math.max(m.components.vsr.unet.largestTensorBytes, m.components.vsr.vaeDecoder.largestTensorBytes ?? 0) } : {}),
            stepCost: (m.components.vsr.unet.nodes ?? 1) / (m.components.baseUnet.nodes ?? 1),
          },
        } : {}),
      },
      ...(rt.limits ? { adapter: rt.limits } : {}),
    };
    const textDevice = opts.textDevice ?? (rt.provider === 'webgpu' ? 'webgpu' : rt.provider === 'wasm' ? 'wasm' : 'cpu');
    return new LaVieEngine(rt, source, info, text, sessions, counters, textDevice);
  }

  /**
   * Text embeddings [2, L, D] = [negative, prompt] on the device (LaVie's CFG batch order), and
   * with `halves` also each as [1, L, D] for UNets that run the two CFG branches separately.
   */
  private async embed(negative: string, prompt: string, halves = false, encoder: PromptEncoder = this.text): Promise<{ pair: DeviceTensor; halves?: { uncond: DeviceTensor; cond: DeviceTensor }; free(): void }> {
    const dev = this.rt.device;
    const emb = await encoder.encode([negative, prompt]);
    const pair = dev.alloc(emb.dims);
    dev.upload(pair, emb.data);
    if (!halves) return { pair, free: () => dev.free(pair) };
    const [, l, d] = emb.dims as [number, number, number];
    const uncond = dev.alloc([1, l, d]);
    const cond = dev.alloc([1, l, d]);
    dev.upload(uncond, emb.data.subarray(0, l * d));
    dev.upload(cond, emb.data.subarray(l * d));
    return { pair, halves: { uncond, cond }, free: () => { for (const t of [pair, uncond, cond]) dev.free(t); } };
  }

  async generate(req: GenerateRequest, hooks: GenerateHooks): Promise<GenerationResult> {
    const m = this.source.manifest;
    const b = m.stages.base;
    const interp = req.interpolate ? m.stages.interp : undefined;
    if (req.interpolate && (!interp || !this.sessions.interpUnet || !this.sessions.vaeEncoder)) {
      throw new RangeError('This model pack has no interpolation stage.');
    }
    const vsr = req.superResolve ? m.stages.vsr : undefined;
    if (req.superResolve && !vsr) throw new RangeError('This model pack has no super-resolution stage.');
    const stageCount = 1 + (interp ? 1 : 0) + (vsr ? 1 : 0);
    const start = performance.now();
    const progress = (stage: Stage, stageIndex: number) => (p: StageProgress) => hooks.onProgress({ ...p, stage, stageIndex, stageCount, elapsedMs: performance.now() - start });
    const noiseFor = (stage: keyof typeof NOISE_BASE) => (stream: number, count: number) => gaussianNoise(req.seed, NOISE_BASE[stage] + stream, count);

    // Stage 1: base.
    const baseVideo: StageVideo = { frames: b.frames, width: b.width, height: b.height, fps: b.fps };
    const baseProgress = progress('base', 1);
    baseProgress({ phase: 'text', step: 0, total: 1 });
    const emb = await this.embed(req.negativePrompt, req.prompt);
    const baseFrames: RgbaFrame[] = [];
    try {
      baseProgress({ phase: 'text', step: 1, total: 1 });
      const plan = createSampler(req.sampler, req.steps, {
        numTrainTimesteps: b.sampler.numTrainTimesteps,
        betaStart: b.sampler.betaStart,
        betaEnd: b.sampler.betaEnd,
        betaSchedule: b.sampler.betaSchedule as BetaSchedule,
      });
      await hooks.onStageStart?.('base', baseVideo);
      await runBaseStage(this.rt, { unet: this.sessions.unet, vaeDecoder: this.sessions.vaeDecoder }, {
        plan,
        guidanceScale: req.guidanceScale,
        latent: b.latent,
        embeddings: emb.pair,
        noise: noiseFor('base'),
        scalingFactor: b.vaeScalingFactor,
        image: { height: b.height, width: b.width },
        previewEvery: Math.max(1, Math.round(req.steps / 10)),
      }, {
        signal: hooks.signal,
        onProgress: baseProgress,
        onPreview: hooks.onPreview,
        onFrame: async (f) => {
          if (interp || vsr) baseFrames.push(f);
          await hooks.onFrame(f);
        },
      });
    } finally {
      emb.free();
    }
    await hooks.onStageEnd?.('base');
    if (!interp) return vsr ? this.superResolve(req, baseFrames, baseVideo, stageCount, start, hooks) : baseVideo;

    // Stage 2: temporal interpolation (LAVIE.md §8.2). Prompt as LaVie's script builds it (with
    // its ", 4k." suffix); the negative prompt is the user's (the script's literal "None" is a
    // YAML accident — see README).
    const interpVideo: StageVideo = { frames: interp.frames, width: b.width, height: b.height, fps: interp.fps };
    const interpProgress = progress('interp', 2);
    interpProgress({ phase: 'text', step: 0, total: 1 });
    const sequential = m.components.interpUnet!.inputs.find((i) => i.name === 'sample')?.shape[0] === 1;
    const emb2 = await this.embed(req.negativePrompt, req.prompt + interp.promptSuffix, sequential);
    const interpFrames: RgbaFrame[] = [];
    try {
      await hooks.onStageStart?.('interp', interpVideo);
      await runInterpStage(this.rt, { vaeEncoder: this.sessions.vaeEncoder!, unet: this.sessions.interpUnet!, vaeDecoder: this.sessions.vaeDecoder }, {
        input: baseFrames,
        plan: interpDdimPlan(interp.steps),
        guidanceScale: interp.guidanceScale,
        latent: interp.latent,
        embeddings: emb2.pair,
        sequentialCfg: emb2.halves,
        scalingFactor: b.vaeScalingFactor,
        noise: noiseFor('interp'),
        previewEvery: Math.max(1, Math.round(interp.steps / 10)),
      }, {
        signal: hooks.signal,
        onProgress: interpProgress,
        onPreview: hooks.onPreview,
        onFrame: async (f) => {
          if (vsr) interpFrames.push(f);
          await hooks.onFrame(f);
        },
      });
    } finally {
      emb2.free();
    }
    await hooks.onStageEnd?.('interp');
    return vsr ? this.superResolve(req, interpFrames, interpVideo, stageCount, start, hooks) : interpVideo;
  }

  /** The last stage (LAVIE.md §8.3): ×4 on the previous stage's frames, same frame count and fps. */
  private async superResolve(req: GenerateRequest, input: RgbaFrame[], inputVideo: StageVideo, stageCount: number, start: number, hooks: GenerateHooks): Promise<StageVideo> {
    const m = this.source.manifest;
    const v = m.stages.vsr!;
    const c = m.components.vsr!;
    const progress = (p: StageProgress) => hooks.onProgress({ ...p, stage: 'vsr', stageIndex: stageCount, stageCount, elapsedMs: performance.now() - start });
    progress({ phase: 'load', step: 0, total: 1 });
    const s = await this.vsrSessions();
    progress({ phase: 'text', step: 0, total: 1 });
    const sequential = c.unet.inputs.find((i) => i.name === 'sample')?.shape[0] === 1;
    // LaVie's VSR negative prompt ("blur, worst quality") with the user's prompt (see README).
    const emb = await this.embed(v.negativePrompt, req.prompt, sequential, s.text);
    const video: StageVideo = { frames: inputVideo.frames, width: v.width, height: v.height, fps: inputVideo.fps };
    try {
      await hooks.onStageStart?.('vsr', video);
      await runVsrStage(this.rt, { unets: s.unets, vaeDecoder: s.vaeDecoder }, {
        input,
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
        noise: (stream, count) => gaussianNoise(req.seed, NOISE_BASE.vsr + stream, count),
      }, { signal: hooks.signal, onProgress: progress, onFrame: hooks.onFrame });
    } finally {
      emb.free();
    }
    await hooks.onStageEnd?.('vsr');
    return video;
  }

  countTokens(text: string): number {
    return this.text.countTokens(text);
  }

  async dispose(): Promise<void> {
    await this.text.dispose();
    for (const s of Object.values(this.sessions)) await s?.release();
    const vsr = await this.vsr?.catch(() => null);
    if (vsr) {
      await vsr.text.dispose();
      for (const u of vsr.unets.values()) await u.release();
      await vsr.vaeDecoder.release();
    }
    this.rt.device.dispose();
    this.rt.dispose?.();
  }
}
