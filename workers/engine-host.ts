// The worker's logic, free of `self`: one engine, requests run one after another, cancellation per
// request id. A generation itself (stage plan → one video sink per stage → results) is in
// generation.ts. engine.worker.ts binds the host to postMessage, WebGPU and MP4; tests bind it to a
// fake engine and counting sinks.
import { LaVieError, toErrorInfo, validateRequest, type ErrorInfo, type GenerateRequest, type PackRef, type ProgressInfo, type StagePlan, type WorkerEvent, type WorkerRequest } from '../src/protocol.ts';
import type { GenerationEngine } from '../src/engine/types.ts';
import { runGeneration } from './generation.ts';
import type { VideoOutput } from './video-sink.ts';

/** `budgetBytes`: GPU bytes the engine may hold, learned from failures on this device (absent: unbounded). */
export type EngineFactory = (pack: PackRef, ctx: { signal: AbortSignal; onProgress: (p: ProgressInfo) => void; budgetBytes?: number }) => Promise<GenerationEngine>;
export type Post = (event: WorkerEvent) => void;

export interface EngineHost {
  handle(msg: WorkerRequest): void;
  /** Resolves when everything queued so far has settled (tests). */
  idle(): Promise<void>;
}

/** Whether `p` has settled (or settles within a moment). */
async function settledSoon(p: Promise<unknown> | undefined, ms = 100): Promise<boolean> {
  if (!p) return false;
  return Promise.race([p.then(() => true, () => true), new Promise<boolean>((r) => setTimeout(() => r(false), ms))]);
}

export function createEngineHost(post: Post, factory: EngineFactory, output: VideoOutput): EngineHost {
  let engine: GenerationEngine | null = null;
  /** The pack of the current engine, to rebuild it after a GPU fault. */
  let current: PackRef | null = null;
  let loading: AbortController | null = null;
  // Everything that touches the engine runs in order on this chain; `cancel` does not wait.
  let chain: Promise<void> = Promise.resolve();
  const enqueue = (job: () => Promise<void>) => {
    chain = chain.then(job).catch((e: unknown) => post({ type: 'error', id: null, error: toErrorInfo(e) }));
  };
  const controllers = new Map<string, AbortController>();
  /** What failed allocations and lost devices taught: stay below 90 % of the peak the engine held then. */
  let learnedBytes: number | undefined;
  const learn = (e: GenerationEngine | null) => {
    const peak = e?.gpuMemory?.()?.peakBytes;
    if (peak) learnedBytes = Math.min(learnedBytes ?? Infinity, Math.floor(0.9 * peak));
  };

  async function load(pack: PackRef): Promise<void> {
    const t0 = performance.now();
    post({ type: 'progress', id: null, progress: { phase: 'load', step: 0, total: 1, elapsedMs: 0 } });
    const old = engine;
    engine = null;
    await old?.dispose().catch(() => undefined);
    const ctrl = (loading = new AbortController());
    let e: GenerationEngine;
    try {
      e = await factory(pack, { signal: ctrl.signal, onProgress: (progress) => post({ type: 'progress', id: null, progress }), ...(learnedBytes !== undefined ? { budgetBytes: learnedBytes } : {}) });
    } catch (err) {
      const error: ErrorInfo = ctrl.signal.aborted ? { code: 'cancelled', message: 'Loading cancelled: downloaded files are kept and the rest resumes next time.', recoverable: true } : toErrorInfo(err);
      post({ type: 'error', id: null, error });
      return;
    } finally {
      if (loading === ctrl) loading = null;
    }
    engine = e;
    current = pack;
    post({ type: 'progress', id: null, progress: { phase: 'load', step: 1, total: 1, elapsedMs: performance.now() - t0 } });
    post({ type: 'loaded', pack: e.pack });
    // A lost GPU device takes every buffer and session with it (a running generation fails with
    // 'device-lost'): start over on a new device with the same pack, so the next generation works.
    void e.lost?.then((info) => enqueue(async () => {
      if (engine !== e) return;
      // A crash of the GPU process (reason 'unknown') is usually memory; device.destroy() is not.
      if ((info as { reason?: string } | undefined)?.reason !== 'destroyed') learn(e);
      await load(pack);
    }));
  }

  async function generate(req: GenerateRequest, ctrl: AbortController): Promise<void> {
    const { id, signal } = { id: req.id, signal: ctrl.signal };
    // Events of a cancelled request are dropped: the app already got `cancelled`.
    const emit = (ev: WorkerEvent) => {
      if (!signal.aborted) post(ev);
    };
    try {
      if (signal.aborted) return;
      if (!engine) throw new LaVieError('bad-request', 'No model is loaded yet.');
      await runGeneration(engine, req, signal, output, emit);
    } catch (e) {
      if (signal.aborted) return; // whatever the engine threw while unwinding, this was a cancel
      let error = toErrorInfo(e);
      // On a lost device the first failure may be anything (e.g. an AbortError from mapAsync): say what happened.
      if (await settledSoon(engine?.lost)) error = { code: 'device-lost', message: `The GPU device was lost during the generation (${error.message}).`, recoverable: true };
      emit(error.code === 'cancelled' ? { type: 'cancelled', id } : { type: 'error', id, error });
      // Out of GPU memory: what the failed run allocated may be stranded (fragmentation, buffers held
      // by ORT's allocator). Release everything and rebuild device and sessions for the same pack,
      // before the next request runs (the chain is serial).
      if (error.code === 'gpu-oom' && current) {
        learn(engine);
        const pack = current;
        enqueue(() => load(pack));
      }
    } finally {
      controllers.delete(id);
    }
  }

  function accept(req: GenerateRequest): void {
    const problem = validateRequest(req);
    if (problem) return post({ type: 'error', id: typeof req?.id === 'string' ? req.id : null, error: problem.toInfo() });
    if (controllers.has(req.id)) return post({ type: 'error', id: req.id, error: { code: 'bad-request', message: `request id ${req.id} is already in use`, recoverable: true } });
    const ctrl = new AbortController();
    controllers.set(req.id, ctrl);
    enqueue(() => generate(req, ctrl));
  }

  function planOf(req: GenerateRequest): StagePlan[] | null {
    try {
      return engine && !validateRequest(req) ? engine.plan(req) : null;
    } catch {
      return null; // e.g. a stage this pack lacks: the generation itself reports it
    }
  }

  function cancel(id: string): void {
    const ctrl = controllers.get(id);
    if (!ctrl || ctrl.signal.aborted) return;
    ctrl.abort();
    // Tell the app at once; the engine stops at its next check and later events are dropped.
    post({ type: 'cancelled', id });
  }

  return {
    handle(msg) {
      switch (msg.type) {
        case 'load': return enqueue(() => load(msg.pack));
        case 'generate': return accept(msg.request);
        // Not queued: the tokenizer runs at once, also while a generation is on the GPU.
        case 'count-tokens': return post({ type: 'tokens', id: msg.id, count: engine?.countTokens?.(msg.text) ?? null });
        case 'cancel-load': return loading?.abort();
        // Not queued either: the app's time estimate before and during a run.
        case 'plan': return post({ type: 'plan', id: msg.id, stages: planOf(msg.request) });
        case 'cancel': return cancel(msg.id);
        default:
          post({ type: 'error', id: null, error: { code: 'bad-request', message: `unknown request ${JSON.stringify((msg as { type?: unknown }).type)}`, recoverable: true } });
      }
    },
    idle: () => chain,
  };
}
