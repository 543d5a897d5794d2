// The generation engine: one pack, one runtime, sessions created once at load and reused for every
// generation. DOM-free: the worker runs it on onnxruntime-web/WebGPU, tests and CLIs on
// onnxruntime-node.
import type { GenerateRequest, PackInfo } from '../protocol.ts';
import { packBytes, type GraphComponent } from '../packs/manifest.ts';
import type { PackSource } from '../packs/source.ts';
import { gaussianNoise } from './noise.ts';
import { runBaseStage } from './pipeline/base-stage.ts';
import { createSession, type ModelSession, type Runtime, type SessionCounters } from './runtime/runtime.ts';
import type { BetaSchedule } from './schedulers/alphas.ts';
import { createSampler } from './schedulers/index.ts';
import { createClipTextEncoder, type PromptEncoder } from './text/text-encoder.ts';
import type { GenerateHooks, GenerationEngine, GenerationResult } from './types.ts';

export interface LoadProgress { loaded: number; total: number; file: string }

async function loadGraph(rt: Runtime, pack: PackSource, name: string, c: GraphComponent, counters: SessionCounters, onBytes: (n: number, file: string) => void): Promise<ModelSession> {
  const model = await pack.read(c.graph.path);
  onBytes(c.graph.bytes, c.graph.path);
  const externalData: { path: string; data: Uint8Array }[] = [];
  for (const f of c.externalData) {
    externalData.push({ path: f.path.split('/').pop()!, data: await pack.read(f.path) });
    onBytes(f.bytes, f.path);
  }
  return createSession(rt, name, { model, externalData }, counters);
}

export class LaVieEngine implements GenerationEngine {
  readonly counters: SessionCounters;

  private constructor(
    private readonly rt: Runtime,
    private readonly source: PackSource,
    readonly pack: PackInfo,
    private readonly text: PromptEncoder,
    private readonly unet: ModelSession,
    private readonly vaeDecoder: ModelSession,
    counters: SessionCounters,
  ) {
    this.counters = counters;
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
    const unet = await loadGraph(rt, source, 'base_unet', m.components.baseUnet, counters, onBytes);
    const vaeDecoder = await loadGraph(rt, source, 'vae_decoder', m.components.vaeDecoder, counters, onBytes);
    const b = m.stages.base;
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
    };
    return new LaVieEngine(rt, source, info, text, unet, vaeDecoder, counters);
  }

  async generate(req: GenerateRequest, hooks: GenerateHooks): Promise<GenerationResult> {
    const b = this.source.manifest.stages.base;
    const start = performance.now();
    hooks.onProgress({ phase: 'text', step: 0, total: 1, elapsedMs: 0 });
    // LaVie's CFG batch order for the base stage: [negative, prompt].
    const emb = await this.text.encode([req.negativePrompt, req.prompt]);
    hooks.onProgress({ phase: 'text', step: 1, total: 1, elapsedMs: performance.now() - start });
    const dev = this.rt.device;
    const embT = dev.alloc(emb.dims);
    try {
      dev.upload(embT, emb.data);
      const plan = createSampler(req.sampler, req.steps, {
        numTrainTimesteps: b.sampler.numTrainTimesteps,
        betaStart: b.sampler.betaStart,
        betaEnd: b.sampler.betaEnd,
        betaSchedule: b.sampler.betaSchedule as BetaSchedule,
      });
      await runBaseStage(this.rt, { unet: this.unet, vaeDecoder: this.vaeDecoder }, {
        plan,
        guidanceScale: req.guidanceScale,
        latent: b.latent,
        embeddings: embT,
        noise: (stream, count) => gaussianNoise(req.seed, stream, count),
        scalingFactor: b.vaeScalingFactor,
        image: { height: b.height, width: b.width },
        previewEvery: Math.max(1, Math.round(req.steps / 10)),
      }, {
        signal: hooks.signal,
        onProgress: (p) => hooks.onProgress({ ...p, elapsedMs: performance.now() - start }),
        onPreview: hooks.onPreview,
        onFrame: hooks.onFrame,
      });
    } finally {
      dev.free(embT);
    }
    return { frames: b.frames, width: b.width, height: b.height, fps: b.fps };
  }

  async dispose(): Promise<void> {
    await this.text.dispose();
    await this.unet.release();
    await this.vaeDecoder.release();
    this.rt.device.dispose();
  }
}
