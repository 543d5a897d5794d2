// A typed wrapper over the engine worker's postMessage (contract: src/protocol.ts). One worker; each
// generation gets a request id; replies are routed back to the caller's promise and callbacks.
import { RemoteError, type ErrorInfo, type GenerateRequest, type PackInfo, type PackRef, type ProgressInfo, type Stage, type StagePlan, type VideoMeta, type WorkerEvent, type WorkerRequest } from '../protocol.ts';

export interface PreviewFrame { step: number; width: number; height: number; rgba: Uint8ClampedArray }

export interface GenerateCallbacks {
  onProgress?(p: ProgressInfo): void;
  onPreview?(p: PreviewFrame): void;
  /** An earlier stage's video (e.g. the base video while interpolation continues). */
  onStageResult?(out: GenerationOutput): void;
}

export interface GenerationOutput { video: Blob; meta: VideoMeta; stage: Stage }

export interface GenerationHandle {
  id: string;
  /** Resolves with the final stage's MP4; rejects with RemoteError (code 'cancelled' after cancel()). */
  done: Promise<GenerationOutput>;
}

interface Pending { resolve(v: GenerationOutput): void; reject(e: RemoteError): void; cb: GenerateCallbacks }
interface PendingLoad { resolve(p: PackInfo): void; reject(e: RemoteError): void; onProgress?: (p: ProgressInfo) => void }

export type WorkerFactory = () => Worker;

export const createEngineWorker: WorkerFactory = () =>
  new Worker(new URL('../../workers/engine.worker.ts', import.meta.url), { type: 'module', name: 'lavie-engine' });

export class EngineClient {
  private worker: Worker | null = null;
  private seq = 0;
  private readonly runs = new Map<string, Pending>();
  private loads: PendingLoad[] = [];
  private readonly counts = new Map<string, (n: number | null) => void>();
  private readonly plans = new Map<string, (p: StagePlan[] | null) => void>();

  /** An error outside any request after the load (e.g. the model was lost: reloading it after a GPU
   * fault failed), also when generations were waiting (they fail with it too). Without this the app
   * would keep showing a model the worker no longer has. */
  onUnsolicitedError: ((error: ErrorInfo) => void) | null = null;

  constructor(private readonly factory: WorkerFactory = createEngineWorker) {}

  /** Load (or replace) the engine's model pack. */
  load(pack: PackRef, onProgress?: (p: ProgressInfo) => void): Promise<PackInfo> {
    return new Promise<PackInfo>((resolve, reject) => {
      this.loads.push({ resolve, reject, onProgress });
      this.send({ type: 'load', pack });
    });
  }

  /** Stop the pack load in progress; its promise rejects with code 'cancelled'. */
  cancelLoad(): void {
    if (this.loads.length) this.send({ type: 'cancel-load' });
  }

  generate(request: Omit<GenerateRequest, 'id'>, cb: GenerateCallbacks = {}): GenerationHandle {
    const id = `gen-${++this.seq}`;
    const done = new Promise<GenerationOutput>((resolve, reject) => {
      this.runs.set(id, { resolve, reject, cb });
    });
    this.send({ type: 'generate', request: { ...request, id } });
    return { id, done };
  }

  /** Text tokens of a prompt on the loaded pack's tokenizer (null: no model loaded yet). */
  countTokens(text: string): Promise<number | null> {
    const id = `tok-${++this.seq}`;
    return new Promise((resolve) => {
      this.counts.set(id, resolve);
      this.send({ type: 'count-tokens', id, text });
    });
  }

  /** The stage plan of a request on the loaded pack (null: no model loaded, or the pack cannot run it). */
  plan(request: Omit<GenerateRequest, 'id'>): Promise<StagePlan[] | null> {
    const id = `plan-${++this.seq}`;
    return new Promise((resolve) => {
      this.plans.set(id, resolve);
      this.send({ type: 'plan', id, request: { ...request, id } });
    });
  }

  /** Ask the worker to stop request `id`. The pending promise rejects with code 'cancelled'. */
  cancel(id: string): void {
    if (!this.runs.has(id)) return;
    this.send({ type: 'cancel', id });
    // Don't wait for the worker: the engine may only notice between two GPU steps.
    this.settle(id, { type: 'cancelled', id });
  }

  dispose(): void {
    this.failAll({ code: 'cancelled', message: 'The engine was shut down.', recoverable: true });
    this.worker?.terminate();
    this.worker = null;
  }

  private ensureWorker(): Worker {
    if (this.worker) return this.worker;
    const w = this.factory();
    w.addEventListener('message', (e: MessageEvent<WorkerEvent>) => this.onEvent(e.data));
    w.addEventListener('error', (e: ErrorEvent) => {
      e.preventDefault();
      // A worker that failed to start or threw at top level is gone: start afresh on next use.
      this.worker?.terminate();
      this.worker = null;
      const error: ErrorInfo = { code: 'internal', message: `The engine worker stopped: ${e.message || 'it could not be started'}.`, recoverable: true };
      const loading = this.loads.length > 0;
      this.failAll(error);
      if (!loading) this.onUnsolicitedError?.(error); // the loaded model went with the worker
    });
    w.addEventListener('messageerror', () => this.failAll({ code: 'internal', message: 'A message from the engine worker could not be read.', recoverable: true }));
    this.worker = w;
    return w;
  }

  private send(msg: WorkerRequest): void {
    this.ensureWorker().postMessage(msg);
  }

  private failAll(error: ErrorInfo): void {
    const loads = this.loads;
    this.loads = [];
    for (const l of loads) l.reject(new RemoteError(error));
    for (const done of this.counts.values()) done(null);
    this.counts.clear();
    for (const done of this.plans.values()) done(null);
    this.plans.clear();
    for (const [id, run] of this.runs) {
      this.runs.delete(id);
      run.reject(new RemoteError(error));
    }
  }

  private settle(id: string, ev: Extract<WorkerEvent, { type: 'result' | 'cancelled' | 'error' }>): void {
    const run = this.runs.get(id);
    if (!run) return;
    this.runs.delete(id);
    if (ev.type === 'result') run.resolve({ video: ev.video, meta: ev.meta, stage: ev.stage });
    else if (ev.type === 'cancelled') run.reject(new RemoteError({ code: 'cancelled', message: 'Generation cancelled.', recoverable: true }));
    else run.reject(new RemoteError(ev.error));
  }

  private onEvent(ev: WorkerEvent): void {
    switch (ev.type) {
      case 'loaded':
        this.loads.shift()?.resolve(ev.pack);
        return;
      case 'progress':
        if (ev.id === null) this.loads[0]?.onProgress?.(ev.progress);
        else this.runs.get(ev.id)?.cb.onProgress?.(ev.progress);
        return;
      case 'preview':
        this.runs.get(ev.id)?.cb.onPreview?.({ step: ev.step, width: ev.width, height: ev.height, rgba: ev.rgba });
        return;
      case 'result':
        if (ev.final === false) this.runs.get(ev.id)?.cb.onStageResult?.({ video: ev.video, meta: ev.meta, stage: ev.stage });
        else this.settle(ev.id, ev);
        return;
      case 'cancelled':
        this.settle(ev.id, ev);
        return;
      case 'plan':
        this.plans.get(ev.id)?.(ev.stages);
        this.plans.delete(ev.id);
        return;
      case 'tokens':
        this.counts.get(ev.id)?.(ev.count);
        this.counts.delete(ev.id);
        return;
      case 'error':
        if (ev.id !== null) this.settle(ev.id, ev);
        else if (this.loads.length) this.loads.shift()!.reject(new RemoteError(ev.error));
        else {
          // After the load, outside any request: whatever waits fails, and the app hears it even
          // then (a generation's own error would not tell it the model is gone).
          for (const [id, run] of this.runs) {
            this.runs.delete(id);
            run.reject(new RemoteError(ev.error));
          }
          this.onUnsolicitedError?.(ev.error);
        }
        return;
    }
  }
}
