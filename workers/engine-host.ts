// The worker's logic, free of `self`: one engine, requests run one after another, cancellation per
// request id, frames → MP4. engine.worker.ts binds it to postMessage; tests can bind it to a fake engine.
import type { GenerateRequest, PackRef, WorkerEvent, WorkerRequest } from '../src/protocol.ts';
import { SAMPLERS } from '../src/protocol.ts';
import type { GenerationEngine } from '../src/engine/types.ts';
import { EncoderUnsupportedError, createMp4Writer, probeCodec, type Mp4Writer } from '../src/video/index.ts';
import { CodedError, toErrorInfo } from './errors.ts';

export type EngineFactory = (pack: PackRef) => Promise<GenerationEngine>;
export type Post = (event: WorkerEvent) => void;

export interface EngineHost {
  handle(msg: WorkerRequest): void;
  /** Resolves when everything queued so far has settled (tests). */
  idle(): Promise<void>;
}

const now = () => performance.now();

/** Reject requests the engine must never see. Returns a message, or null when the request is fine. */
export function validateRequest(r: GenerateRequest): string | null {
  if (typeof r.id !== 'string' || !r.id) return 'request id missing';
  if (typeof r.prompt !== 'string' || !r.prompt.trim()) return 'Enter a prompt.';
  if (typeof r.negativePrompt !== 'string') return 'negative prompt must be text';
  if (!Number.isInteger(r.seed) || r.seed < 0 || r.seed > 0xffffffff) return `Seed must be a whole number from 0 to ${0xffffffff}.`;
  if (!Number.isInteger(r.steps) || r.steps < 1 || r.steps > 1000) return 'Steps must be a whole number from 1 to 1000.';
  if (!Number.isFinite(r.guidanceScale) || r.guidanceScale < 0 || r.guidanceScale > 50) return 'Guidance scale must be between 0 and 50.';
  if (!SAMPLERS.includes(r.sampler)) return `Sampler must be one of ${SAMPLERS.join(', ')}.`;
  return null;
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

  async function load(pack: PackRef): Promise<void> {
    const t0 = now();
    post({ type: 'progress', id: null, progress: { phase: 'load', step: 0, total: 1, elapsedMs: 0 } });
    await dropEngine();
    try {
      engine = await factory(pack);
    } catch (e) {
      post({ type: 'error', id: null, error: toErrorInfo(e) });
      return;
    }
    post({ type: 'progress', id: null, progress: { phase: 'load', step: 1, total: 1, elapsedMs: now() - t0 } });
    post({ type: 'loaded', pack: engine.pack });
  }

  async function generate(req: GenerateRequest, ctrl: AbortController): Promise<void> {
    const { id } = req;
    const { signal } = ctrl;
    let writer: Mp4Writer | null = null;
    try {
      if (signal.aborted) return;
      if (!engine) throw new CodedError('bad-request', 'No model is loaded yet.', true);
      const eng = engine;
      const t0 = now();
      const { pack } = eng;
      // Fail before minutes of GPU work if this browser cannot encode the result.
      const choice = await probeCodec(pack.width, pack.height, pack.fps);
      if (!choice) throw new EncoderUnsupportedError(`This browser cannot encode H.264, VP9 or AV1 video at ${pack.width}×${pack.height}.`);
      const result = await eng.generate(req, {
        signal,
        onProgress: (progress) => emit(id, { type: 'progress', id, progress }),
        onPreview: (p) => emit(id, { type: 'preview', id, step: p.step, width: p.width, height: p.height, rgba: p.rgba }),
        onFrame: async (f) => {
          if (signal.aborted) return;
          writer ??= await createMp4Writer({ width: f.width, height: f.height, fps: pack.fps, codec: f.width === pack.width && f.height === pack.height ? choice : undefined });
          await writer.addFrame(f.rgba, f.index);
        },
      });
      if (signal.aborted) return;
      const w = writer as Mp4Writer | null;
      if (!w || w.frames === 0) throw new CodedError('internal', 'The engine finished without producing any frames.');
      if (result.frames !== w.frames) throw new CodedError('internal', `The engine reported ${result.frames} frames but delivered ${w.frames}.`);
      const encodeStart = now();
      emit(id, { type: 'progress', id, progress: { phase: 'encode', step: 0, total: 1, elapsedMs: encodeStart - t0 } });
      const video = await w.finish();
      writer = null;
      if (signal.aborted) return;
      const elapsedMs = now() - t0;
      emit(id, { type: 'progress', id, progress: { phase: 'encode', step: 1, total: 1, elapsedMs, etaMs: 0 } });
      emit(id, {
        type: 'result',
        id,
        video,
        meta: { frames: w.frames, width: w.width, height: w.height, fps: w.fps, codec: w.codecString, mimeType: w.mimeType, seed: req.seed, elapsedMs },
      });
    } catch (e) {
      if (signal.aborted) return; // whatever the engine threw while unwinding, this was a cancel
      const error = toErrorInfo(e);
      if (error.code === 'cancelled') {
        emit(id, { type: 'cancelled', id });
        return;
      }
      if (error.code === 'device-lost') await dropEngine();
      emit(id, { type: 'error', id, error });
    } finally {
      const w = writer as Mp4Writer | null;
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
            post({ type: 'error', id: typeof req?.id === 'string' ? req.id : null, error: { code: 'bad-request', message: problem, recoverable: true } });
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
