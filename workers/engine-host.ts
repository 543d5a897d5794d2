// The worker's logic, free of `self`: one engine, requests run one after another, cancellation per
// request id, frames → MP4. engine.worker.ts binds it to postMessage; tests can bind it to a fake engine.
import type { GenerateRequest, PackRef, ProgressInfo, Stage, StageVideo, WorkerEvent, WorkerRequest } from '../src/protocol.ts';
import { LaVieError, toErrorInfo, validateRequest, stagesOf } from '../src/protocol.ts';
import type { GenerationEngine } from '../src/engine/types.ts';
import { EncoderUnsupportedError, createMp4Writer, probeCodec, type Mp4Writer } from '../src/video/index.ts';

export type EngineFactory = (pack: PackRef, ctx: { signal: AbortSignal; onProgress: (p: ProgressInfo) => void }) => Promise<GenerationEngine>;
export type Post = (event: WorkerEvent) => void;

export interface EngineHost {
  handle(msg: WorkerRequest): void;
  /** Resolves when everything queued so far has settled (tests). */
  idle(): Promise<void>;
}

const now = () => performance.now();

/** Whether `p` has settled (or settles within a moment). */
async function settledSoon(p: Promise<unknown> | undefined, ms = 100): Promise<boolean> {
  if (!p) return false;
  return Promise.race([p.then(() => true, () => true), new Promise<boolean>((r) => setTimeout(() => r(false), ms))]);
}

export function createEngineHost(post: Post, factory: EngineFactory): EngineHost {
  let engine: GenerationEngine | null = null;
  // Everything that touches the engine runs in order on this chain; `cancel` does not wait.
  let chain: Promise<void> = Promise.resolve();
  const controllers = new Map<string, AbortController>();
  const cancelled = new Set<string>();

  const enqueue = (job: () => Promise<void>) => {
    chain = chain.then(job).catch((e: unknown) => post({ type: 'error', id: null, error: toErrorInfo(e) }));
  };

  // Events of a cancelled request are dropped: the app already got `cancelled`.
  const emit = (id: string, ev: WorkerEvent) => {
    if (!cancelled.has(id)) post(ev);
  };

  const dropEngine = async () => {
    const e = engine;
    engine = null;
    if (e) await e.dispose().catch(() => undefined);
  };

  let loading: AbortController | null = null;
  /** The pack of the current engine, to rebuild it after a GPU fault. */
  let current: PackRef | null = null;

  async function load(pack: PackRef): Promise<void> {
    const t0 = now();
    post({ type: 'progress', id: null, progress: { phase: 'load', step: 0, total: 1, elapsedMs: 0 } });
    await dropEngine();
    const ctrl = (loading = new AbortController());
    try {
      engine = await factory(pack, { signal: ctrl.signal, onProgress: (progress) => post({ type: 'progress', id: null, progress }) });
    } catch (e) {
      const error = ctrl.signal.aborted ? { code: 'cancelled' as const, message: 'Loading cancelled: downloaded files are kept and the rest resumes next time.', recoverable: true } : toErrorInfo(e);
      post({ type: 'error', id: null, error });
      return;
    } finally {
      if (loading === ctrl) loading = null;
    }
    current = pack;
    post({ type: 'progress', id: null, progress: { phase: 'load', step: 1, total: 1, elapsedMs: now() - t0 } });
    post({ type: 'loaded', pack: engine.pack });
    // A lost GPU device takes every buffer and session with it (a running generation fails with
    // 'device-lost'): start over on a new device with the same pack, so the next generation works.
    const e = engine;
    void e.lost?.then(() => enqueue(async () => {
      if (engine === e) await load(pack);
    }));
  }

  async function generate(req: GenerateRequest, ctrl: AbortController): Promise<void> {
    const { id } = req;
    const { signal } = ctrl;
    // One MP4 per stage: each is finished and sent as soon as its last frame is in.
    const cur: { video: { stage: Stage; size: StageVideo; writer: Mp4Writer | null } | null } = { video: null };
    try {
      if (signal.aborted) return;
      if (!engine) throw new LaVieError('bad-request', 'No model is loaded yet.');
      const eng = engine;
      const t0 = now();
      const ort0 = eng.counters?.runMs ?? 0;
      const { pack } = eng;
      const stages = stagesOf(req);
      const refused = validateRequest(req, pack);
      if (refused) throw refused;
      const sizes: Record<Stage, StageVideo> = { base: { frames: pack.frames, width: pack.width, height: pack.height, fps: pack.fps }, ...pack.stages } as Record<Stage, StageVideo>;
      // Fail before minutes of GPU work if this browser cannot encode the results.
      const codecs = new Map<Stage, Awaited<ReturnType<typeof probeCodec>>>();
      for (const st of stages) {
        const v = sizes[st];
        const choice = await probeCodec(v.width, v.height, v.fps);
        if (!choice) throw new EncoderUnsupportedError(`This browser cannot encode H.264, VP9 or AV1 video at ${v.width}×${v.height}.`);
        codecs.set(st, choice);
      }
      const open = (stage: Stage, size: StageVideo) => {
        if (cur.video?.writer) void cur.video.writer.cancel().catch(() => undefined);
        cur.video = { stage, size, writer: null };
      };
      const finish = async (stage: Stage) => {
        const v = cur.video;
        if (!v || v.stage !== stage) throw new LaVieError('internal', `stage ${stage} ended without starting`);
        const w = v.writer;
        if (!w || w.frames === 0) throw new LaVieError('internal', `The ${stage} stage finished without producing any frames.`);
        if (w.frames !== v.size.frames) throw new LaVieError('internal', `The ${stage} stage should give ${v.size.frames} frames but delivered ${w.frames}.`);
        emit(id, { type: 'progress', id, progress: { stage, stageIndex: stages.indexOf(stage) + 1, stageCount: stages.length, phase: 'encode', step: 0, total: 1, elapsedMs: now() - t0 } });
        const blob = await w.finish();
        cur.video = null;
        if (signal.aborted) return;
        const elapsedMs = now() - t0;
        const final = stage === stages[stages.length - 1];
        emit(id, {
          type: 'result',
          id,
          stage,
          final,
          video: blob,
          meta: { frames: w.frames, width: w.width, height: w.height, fps: w.fps, codec: w.codecString, mimeType: w.mimeType, seed: req.seed, elapsedMs, ...(eng.counters?.runMs !== undefined ? { ortMs: eng.counters.runMs - ort0 } : {}) },
        });
      };
      open('base', sizes.base);
      await eng.generate(req, {
        signal,
        onProgress: (progress) => emit(id, { type: 'progress', id, progress }),
        onPreview: (p) => emit(id, { type: 'preview', id, step: p.step, width: p.width, height: p.height, rgba: p.rgba }),
        onStageStart: (stage, size) => open(stage, size),
        onFrame: async (f) => {
          if (signal.aborted) return;
          const v = cur.video;
          if (!v) throw new LaVieError('internal', 'The engine sent a frame outside a stage.');
          v.writer ??= await createMp4Writer({ width: f.width, height: f.height, fps: v.size.fps, codec: f.width === v.size.width && f.height === v.size.height ? codecs.get(v.stage) ?? undefined : undefined });
          await v.writer.addFrame(f.rgba, f.index);
        },
        onStageEnd: (stage) => finish(stage),
      });
      if (signal.aborted) return;
      // Engines that do not announce stages (e.g. a test double) deliver one base video.
      if (cur.video?.writer) await finish(cur.video.stage);
    } catch (e) {
      if (signal.aborted) return; // whatever the engine threw while unwinding, this was a cancel
      let error = toErrorInfo(e);
      // On a lost device the first failure may be anything (e.g. an AbortError from mapAsync): say what happened.
      if (await settledSoon(engine?.lost)) error = { code: 'device-lost', message: `The GPU device was lost during the generation (${error.message}).`, recoverable: true };
      if (error.code === 'cancelled') {
        emit(id, { type: 'cancelled', id });
        return;
      }
      emit(id, { type: 'error', id, error });
      // Out of GPU memory: what the failed run allocated may be stranded (fragmentation, buffers held
      // by ORT's allocator). Release everything and rebuild device and sessions for the same pack,
      // before the next request runs (the chain is serial).
      if (error.code === 'gpu-oom' && current) {
        const pack = current;
        enqueue(() => load(pack));
      }
    } finally {
      const w = cur.video?.writer;
      if (w) await w.cancel().catch(() => undefined);
      controllers.delete(id);
      cancelled.delete(id);
    }
  }

  return {
    handle(msg) {
      switch (msg.type) {
        case 'load':
          enqueue(() => load(msg.pack));
          return;
        case 'generate': {
          const req = msg.request;
          const problem = validateRequest(req);
          if (problem) {
            post({ type: 'error', id: typeof req?.id === 'string' ? req.id : null, error: problem.toInfo() });
            return;
          }
          if (controllers.has(req.id)) {
            post({ type: 'error', id: req.id, error: { code: 'bad-request', message: `request id ${req.id} is already in use`, recoverable: true } });
            return;
          }
          const ctrl = new AbortController();
          controllers.set(req.id, ctrl);
          enqueue(() => generate(req, ctrl));
          return;
        }
        case 'count-tokens':
          // Not queued: the tokenizer runs at once, also while a generation is on the GPU.
          post({ type: 'tokens', id: msg.id, count: engine?.countTokens?.(msg.text) ?? null });
          return;
        case 'cancel-load':
          loading?.abort();
          return;
        case 'cancel': {
          const ctrl = controllers.get(msg.id);
          if (!ctrl || ctrl.signal.aborted) return;
          ctrl.abort();
          // Tell the app at once; the engine stops at its next check and later events are dropped.
          post({ type: 'cancelled', id: msg.id });
          cancelled.add(msg.id);
          return;
        }
        default:
          post({ type: 'error', id: null, error: { code: 'bad-request', message: `unknown request ${JSON.stringify((msg as { type?: unknown }).type)}`, recoverable: true } });
      }
    },
    idle: () => chain,
  };
}
