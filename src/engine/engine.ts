// The generation engine: one pack, one runtime, sessions created on first use and reused while the
// GPU memory budget allows. DOM-free: the worker runs it on onnxruntime-web/WebGPU, tests and CLIs on
// onnxruntime-node. A generation is a loop over the planned stages (stages/plan.ts): each stage
// knows its sizes, cost and phases (the networks each holds); the engine lends them sessions phase
// by phase (stages/memory.ts decides what to release), text encoders and noise.
import type { GenerateRequest, GpuMemoryReport, PackInfo, Stage } from '../protocol.ts';
import { graphVariant, packBytes, type GraphComponent, type PackManifest } from '../packs/manifest.ts';
import type { PackSource } from '../packs/pack-source.ts';
import { gaussianNoise } from './noise.ts';
import { perFrameContexts, type PromptSchedule } from './prompt-schedule.ts';
import type { DeviceTensor } from './runtime/device.ts';
import { createSession, type ModelSession, type Runtime, type SessionCounters } from './runtime/runtime.ts';
import type { Embeddings, PhaseNetworks, StageEnv, StageNetwork, StagePhase } from './stages/cascade-stage.ts';
import { STAGES, planStages, probeRequest, type PlannedStage } from './stages/plan.ts';
import { laterPhases, loadPhases, memoryBudget, memoryPlan, networkKey, networkWeightBytes, optionPeaks, releasesBefore, requestPhases, type MemoryPlan } from './stages/memory.ts';
import { vsrTiles } from './stages/vsr.ts';
import { baseLengths } from './stages/base.ts';
import { createClipTextEncoder, type PromptEncoder, type TextEncoderParts } from './text/text-encoder.ts';
import type { GenerateHooks, GenerationEngine, GenerationResult, RgbaFrame, StagePlan } from './types.ts';

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
const NOISE_BASE: Record<Stage, number> = { base: 0, interp: 1 << 20, vsr: 2 << 20 };

type TextDevice = 'webgpu' | 'wasm' | 'cpu';

/**
 * Sessions and text encoders of one pack, each created on first use and kept while the memory
 * budget allows: before each phase of a stage the one release rule (stages/memory.ts) names what
 * to release; a released network is created again when a phase needs it.
 */
class PackResources {
  private readonly sessions = new Map<string, Promise<ModelSession>>();
  private readonly encoders = new Map<string, Promise<PromptEncoder>>();
  /** Estimated device bytes of each created network (memory.ts), by key, in order of last use. */
  private readonly held = new Map<string, number>();
  /** Every creation (+key) and release (−key) in order (tests, diagnostics). */
  readonly journal: string[] = [];

  constructor(
    private readonly rt: Runtime,
    private readonly source: PackSource,
    private readonly counters: SessionCounters,
    private readonly textDevice: TextDevice,
    /** Load progress while the pack loads; later sessions report nothing. */
    public onBytes: (n: number, file: string) => void,
  ) {}

  /** Start `phase` within `budgetBytes`: the rule's releases, then its networks (created in order when missing). */
  async enter(phase: StagePhase, later: readonly StagePhase[], budgetBytes: number): Promise<PhaseNetworks> {
    for (const k of releasesBefore(this.source.manifest, this.held, phase, later, this.rt.compute, budgetBytes)) await this.release(k);
    const sessions = new Map<string, ModelSession>();
    const encoders = new Map<string, PromptEncoder>();
    // One after another: each session's weights pass through memory while it is created.
    for (const n of phase.networks) {
      if (n.text) encoders.set(n.name, await this.textEncoder(n.name, n.parts));
      else sessions.set(n.name, await this.session(n));
    }
    const get = <T>(m: Map<string, T>, name: string): T => {
      const v = m.get(name);
      if (!v) throw new Error(`phase ${phase.name} holds no network ${name}`);
      return v;
    };
    return { session: (name) => get(sessions, name), encoder: (name) => get(encoders, name) };
  }

  private session(n: StageNetwork): Promise<ModelSession> {
    this.use(n);
    return this.keep(this.sessions, n.name, () => loadGraph(this.rt, this.source, n.name, n.c, this.counters, this.onBytes));
  }

  textEncoder(name: string, parts?: TextEncoderParts): Promise<PromptEncoder> {
    this.use({ name, c: parts?.textEncoder ?? this.source.manifest.components.textEncoder, text: true });
    return this.keep(this.encoders, name, () => createClipTextEncoder(this.source, { device: this.textDevice, sessionOptions: this.rt.sessionOptions() as Record<string, unknown>, ...(parts ? { parts } : {}) }));
  }

  /** Keys of the networks created now (tests, diagnostics). */
  get loaded(): string[] {
    return [...this.held.keys()];
  }

  private use(n: StageNetwork): void {
    const key = networkKey(n);
    if (!this.held.has(key)) this.journal.push(`+${key}`);
    this.held.delete(key); // re-insert: Map order is the order of last use
    this.held.set(key, networkWeightBytes(n.c, this.rt.compute));
  }

  private async release(key: string): Promise<void> {
    this.held.delete(key);
    this.journal.push(`-${key}`);
    if (key.startsWith('text:')) {
      const e = this.encoders.get(key.slice(5));
      this.encoders.delete(key.slice(5));
      await (await e?.catch(() => null))?.dispose();
    } else {
      const s = this.sessions.get(key);
      this.sessions.delete(key);
      await (await s?.catch(() => null))?.release();
    }
  }

  /** A failed creation is forgotten, so the next use tries again. */
  private keep<T>(m: Map<string, Promise<T>>, key: string, create: () => Promise<T>): Promise<T> {
    let p = m.get(key);
    if (!p) {
      p = create();
      m.set(key, p);
      p.catch(() => {
        if (m.get(key) === p) m.delete(key);
        this.held.delete(m === this.sessions ? key : textKey(key));
      });
    }
    return p;
  }

  async dispose(): Promise<void> {
    for (const e of this.encoders.values()) await (await e.catch(() => null))?.dispose();
    for (const s of this.sessions.values()) await (await s.catch(() => null))?.release();
  }
}

const textKey = (key: string) => `text:${key}`;

export class LaVieEngine implements GenerationEngine {
  readonly counters: SessionCounters;

  get lost(): Promise<unknown> | undefined {
    return this.rt.lost;
  }

  private constructor(
    private readonly rt: Runtime,
    private readonly source: PackSource,
    readonly pack: PackInfo,
    private readonly env: StageEnv,
    private readonly resources: PackResources,
    counters: SessionCounters,
    private readonly budgetBytes: number,
    private readonly running: { phases: StagePhase[]; budgetBytes: number },
  ) {
    this.counters = counters;
  }

  /**
   * `budgetBytes`: GPU bytes this engine may hold whatever the request says (what a failed
   * allocation or a lost device taught the worker; absent: unbounded). Within it, stages after the
   * base one create their sessions at load only if everything fits; else on first use.
   */
  static async load(rt: Runtime, source: PackSource, opts: { onProgress?: (p: LoadProgress) => void; textDevice?: TextDevice; budgetBytes?: number } = {}): Promise<LaVieEngine> {
    const m = source.manifest;
    const counters: SessionCounters = { sessionsCreated: 0, sessionsLive: 0, runs: 0 };
    const total = packBytes(m);
    let loaded = 0;
    const textDevice = opts.textDevice ?? (rt.provider === 'webgpu' ? 'webgpu' : rt.provider === 'wasm' ? 'wasm' : 'cpu');
    const resources = new PackResources(rt, source, counters, textDevice, (n, file) => {
      loaded += n;
      opts.onProgress?.({ loaded, total, file });
    });
    const text = await resources.textEncoder('base');
    const budgetBytes = opts.budgetBytes ?? Infinity;
    // The phases of the generation running now: a phase's release rule looks at those after it.
    const running: { phases: StagePhase[]; budgetBytes: number } = { phases: [], budgetBytes };
    const env: StageEnv = {
      rt,
      source,
      text,
      enter: (phase) => {
        const i = running.phases.findIndex((p) => p.name === phase.name);
        return resources.enter(phase, laterPhases(running.phases, i), running.budgetBytes);
      },
      embed: (encoder, negative, prompt, halves) => embed(rt, encoder, negative, prompt, halves),
    };
    try {
      // Created now: the base stage's networks, and interpolation's when base + interpolation fit
      // the budget all kept (memory.ts: loadPhases); VSR's on first use.
      const phases = loadPhases(m, rt.compute, budgetBytes).map((p) => p.phase);
      for (const [i, p] of phases.entries()) await resources.enter(p, laterPhases(phases, i), budgetBytes);
    } catch (e) {
      await resources.dispose();
      throw e;
    }
    resources.onBytes = () => {};
    return new LaVieEngine(rt, source, packInfo(rt, m, total), env, resources, counters, budgetBytes, running);
  }

  /** Whether `req` fits the budget (the request's "GPU memory" setting and the engine's), and what to pick instead. */
  memoryPlan(req: GenerateRequest): MemoryPlan {
    return memoryPlan(this.source.manifest, req, this.rt.compute, this.budgetFor(req));
  }

  private budgetFor(req: GenerateRequest): number {
    return Math.min(memoryBudget({ ...(req.gpuMemoryGB !== undefined ? { settingGB: req.gpuMemoryGB } : {}) }), this.budgetBytes);
  }

  /** Networks created now (session names; text encoders as text:<key>). */
  get loadedNetworks(): string[] {
    return this.resources.loaded;
  }

  /** Every network created (+key) and released (−key) since the load began, in order. */
  get networkJournal(): readonly string[] {
    return this.resources.journal;
  }

  plan(req: GenerateRequest): StagePlan[] {
    return planStages(this.source.manifest, req).map((p) => ({ stage: p.stage.name, video: p.output, cost: p.cost, work: p.work }));
  }

  async generate(req: GenerateRequest, hooks: GenerateHooks): Promise<GenerationResult> {
    const m = this.source.manifest;
    const plan: PlannedStage[] = planStages(m, req);
    this.running.phases = requestPhases(m, req).map((p) => p.phase);
    this.running.budgetBytes = this.budgetFor(req);
    const start = performance.now();
    let input: readonly RgbaFrame[] = [];
    for (const [i, p] of plan.entries()) {
      const name = p.stage.name;
      // A later stage reads this one's frames; the last stage's only go to the hook.
      const keep: RgbaFrame[] | null = i < plan.length - 1 ? [] : null;
      this.rt.memory?.enter(name);
      await hooks.onStageStart?.(name, p.output);
      await p.stage.run(this.env, {
        req,
        inputVideo: p.input,
        input,
        output: p.output,
        noise: (stream, count) => gaussianNoise(req.seed, NOISE_BASE[name] + stream, count),
        signal: hooks.signal,
        onProgress: (s) => hooks.onProgress({ ...s, stage: name, stageIndex: i + 1, stageCount: plan.length, elapsedMs: performance.now() - start }),
        ...(hooks.onPreview ? { onPreview: hooks.onPreview } : {}),
        onFrame: async (f) => {
          keep?.push(f);
          await hooks.onFrame(f);
        },
      });
      await hooks.onStageEnd?.(name);
      input = keep ?? [];
    }
    return plan[plan.length - 1]!.output;
  }

  gpuMemory(): GpuMemoryReport | undefined {
    return this.rt.memory?.report();
  }

  countTokens(text: string): number {
    return this.env.text.countTokens(text);
  }

  async dispose(): Promise<void> {
    await this.resources.dispose();
    this.rt.device.dispose();
    this.rt.dispose?.();
  }
}

/** Text embeddings [2, L, D] = [negative, prompt] on the device (LaVie's CFG batch order), and
 * with `halves` also each as [1, L, D] for UNets that run the two CFG branches separately. A prompt
 * schedule (per-frame-text graphs) gives [2·F, L, D]: the negative prompt on every frame, then each
 * frame's prompt (halves [F, L, D]). */
async function embed(rt: Runtime, encoder: PromptEncoder, negative: string, prompt: string | PromptSchedule, halves: boolean): Promise<Embeddings> {
  const dev = rt.device;
  const emb = typeof prompt === 'string' ? await encoder.encode([negative, prompt]) : await scheduleEmbeddings(encoder, negative, prompt);
  const pair: DeviceTensor = dev.alloc(emb.dims);
  dev.upload(pair, emb.data);
  if (!halves) return { pair, free: () => dev.free(pair) };
  const [rows, l, d] = emb.dims as [number, number, number];
  const half = [rows / 2, l, d];
  const uncond = dev.alloc(half);
  const cond = dev.alloc(half);
  dev.upload(uncond, emb.data.subarray(0, (rows / 2) * l * d));
  dev.upload(cond, emb.data.subarray((rows / 2) * l * d));
  return { pair, halves: { uncond, cond }, free: () => { for (const t of [pair, uncond, cond]) dev.free(t); } };
}

/** [negative × F, prompt(f) for each f] as [2·F, L, D]; each distinct prompt encoded once, paired with the
 * negative prompt as the text graph takes them (so one prompt gives the same rows as the plain path). */
async function scheduleEmbeddings(encoder: PromptEncoder, negative: string, s: PromptSchedule): Promise<{ data: Float32Array; dims: number[] }> {
  const pairs = [];
  for (const p of s.prompts) pairs.push(await encoder.encode([negative, p]));
  const [, l, d] = pairs[0]!.dims as [number, number, number];
  const row = l * d;
  const frames = s.index.length;
  const data = new Float32Array(2 * frames * row);
  data.set(perFrameContexts([pairs[0]!.data.subarray(0, row)], s.index.map(() => 0)), 0);
  data.set(perFrameContexts(pairs.map((e) => e.data.subarray(row, 2 * row)), s.index), frames * row);
  return { data, dims: [2 * frames, l, d] };
}

/** What the UI learns about a loaded pack: sizes from the same stage plan a generation runs. */
function packInfo(rt: Runtime, m: PackManifest, total: number): PackInfo {
  const b = m.stages.base;
  const probe = (over: Partial<GenerateRequest>): GenerateRequest => probeRequest(m, over);
  const last = (over: Partial<GenerateRequest>) => planStages(m, probe(over)).at(-1)!.output;
  const base = last({});
  const vsr = STAGES.vsr.offered(m) ? m.stages.vsr! : undefined;
  const c = m.components;
  return {
    name: m.name,
    bytes: total,
    testWeights: m.testWeights,
    ...(m.about ? { about: m.about } : {}),
    ...base,
    ...(baseLengths(m).length > 1 ? { lengths: baseLengths(m) } : {}),
    defaults: { steps: b.sampler.steps, guidanceScale: b.sampler.guidanceScale, sampler: b.sampler.default },
    device: rt.provider,
    compute: graphVariant(c.baseUnet, rt.compute).compute,
    stages: {
      ...(STAGES.interp.offered(m) ? { interp: last({ interpolate: true }) } : {}),
      ...(vsr && c.vsr ? {
        vsr: {
          ...last({ superResolve: true }), scale: vsr.scale, tiles: vsrTiles(m).unet, steps: vsr.steps,
          ...(c.vsr.unet.largestTensorBytes ? { largestTensorBytes: Math.max(c.vsr.unet.largestTensorBytes, c.vsr.vaeDecoder.largestTensorBytes ?? 0) } : {}),
          stepCost: (c.vsr.unet.nodes ?? 1) / (c.baseUnet.nodes ?? 1),
        },
      } : {}),
    },
    ...(rt.limits ? { adapter: rt.limits } : {}),
    // Estimated GPU peak of each LaVie option this pack offers (sessions released between stages as needed).
    memory: optionPeaks(m, probe({}), rt.compute),
  };
}
