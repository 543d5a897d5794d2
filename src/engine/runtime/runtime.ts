// The runtime the engine runs on: an ORT module (onnxruntime-web/webgpu in the worker,
// onnxruntime-node in Node), the execution-provider options, and the TensorDevice that holds the
// engine's tensors. The engine never imports an ORT package itself: the worker or the Node caller
// injects it, so the same engine code runs in both places.
import type * as ortTypes from 'onnxruntime-common';
import { LaVieError, type ComputePrecision } from '../../protocol.ts';
import type { TensorDevice } from './device.ts';
import type { GpuMemoryCounter } from './gpu-memory.ts';

export interface OrtModule {
  InferenceSession: typeof ortTypes.InferenceSession;
  Tensor: typeof ortTypes.Tensor;
}

/** A model graph plus its external weight files, ready to hand to ORT. */
export interface ModelSource {
  /** Model bytes, or a local file path (Node: external data resolves next to it). */
  model: Uint8Array | string;
  externalData?: { path: string; data: Uint8Array | Blob }[];
}

export interface Runtime {
  readonly ort: OrtModule;
  readonly device: TensorDevice;
  /** 'webgpu' | 'wasm' | 'cpu' */
  readonly provider: string;
  sessionOptions(): ortTypes.InferenceSession.SessionOptions;
  /** WebGPU adapter buffer limits (absent off WebGPU). */
  readonly limits?: { maxBufferSize: number; maxStorageBufferBindingSize: number };
  /** Settles when the GPU device is lost (WebGPU only); every later ORT call fails fast. */
  readonly lost?: Promise<unknown>;
  /**
   * Which graph variant to run: 'fp16' where the GPU computes float16 (WebGPU `shader-f16`) and the
   * pack ships fp16-compute graphs, else 'fp32'.
   */
  readonly compute: ComputePrecision;
  /** onnxruntime-web takes external data as Blobs (read once, by ORT); onnxruntime-node does not. */
  readonly blobExternalData?: boolean;
  /** Every GPU buffer on the device, by owner and phase (WebGPU only). */
  readonly memory?: GpuMemoryCounter;
  /** Give the GPU device back (after every session is released): a new pack or a rebuild after a
   * GPU fault gets a fresh device instead of leaking the old one's memory. */
  dispose?(): void;
}

/** The GPU device went away (driver reset, device.destroy(), too long in the background). */
export class DeviceLostError extends LaVieError {
  constructor(message = 'The GPU device was lost.') {
    super('device-lost', message);
  }
}

export interface SessionCounters {
  sessionsCreated: number;
  sessionsLive: number;
  runs: number;
  /** Wall time spent awaiting ORT runs (ms). On WebGPU a run may resolve once its work is queued:
   * GPU time still pending then shows up in the next readback. */
  runMs?: number;
}

/** One ORT session with the engine's conventions (static shapes, device-resident I/O). */
export class ModelSession {
  constructor(
    readonly name: string,
    private readonly rt: Runtime,
    private readonly session: ortTypes.InferenceSession,
    private readonly counters: SessionCounters,
  ) {}

  get inputNames(): readonly string[] {
    return this.session.inputNames;
  }

  get outputNames(): readonly string[] {
    return this.session.outputNames;
  }

  /**
   * Run with ORT tensors as inputs; outputs are written into `outputs` (device tensors). On WebGPU
   * they are bound as pre-allocated GPU buffers, so nothing leaves the GPU.
   */
  async run(feeds: Record<string, ortTypes.Tensor>, outputs: Record<string, import('./device.ts').DeviceTensor>): Promise<void> {
    const dev = this.rt.device;
    this.counters.runs++;
    const t0 = performance.now();
    try {
      if (dev.bindsOutputs) {
        const fetches: Record<string, ortTypes.Tensor> = {};
        for (const [name, t] of Object.entries(outputs)) fetches[name] = dev.asOrt(t);
        await this.unlessLost(this.session.run(feeds, fetches));
        return;
      }
      const res = await this.unlessLost(this.session.run(feeds, Object.keys(outputs)));
      for (const [name, t] of Object.entries(outputs)) dev.fromOrt(res[name]!, t);
    } finally {
      this.counters.runMs = (this.counters.runMs ?? 0) + performance.now() - t0;
    }
  }

  /** A lost device may leave ORT's promise pending forever: fail with DeviceLostError instead. */
  private unlessLost<T>(p: Promise<T>): Promise<T> {
    const lost = this.rt.lost;
    if (!lost) return p;
    return Promise.race([p, lost.then((info) => { throw new DeviceLostError(`The GPU device was lost (${(info as { message?: string })?.message || 'no reason given'}).`); })]);
  }

  /** Run and return raw ORT outputs (host tensors); for small, non-loop graphs. */
  async runHost(feeds: Record<string, ortTypes.Tensor>): Promise<Record<string, ortTypes.Tensor>> {
    this.counters.runs++;
    const t0 = performance.now();
    try {
      return await this.session.run(feeds);
    } finally {
      this.counters.runMs = (this.counters.runMs ?? 0) + performance.now() - t0;
    }
  }

  async release(): Promise<void> {
    await this.session.release();
    this.counters.sessionsLive--;
  }
}

export async function createSession(rt: Runtime, name: string, src: ModelSource, counters: SessionCounters): Promise<ModelSession> {
  const opts: ortTypes.InferenceSession.SessionOptions = { ...rt.sessionOptions() };
  if (src.externalData?.length) opts.externalData = src.externalData;
  const session = typeof src.model === 'string'
    ? await rt.ort.InferenceSession.create(src.model, opts)
    : await rt.ort.InferenceSession.create(src.model, opts);
  counters.sessionsCreated++;
  counters.sessionsLive++;
  return new ModelSession(name, rt, session, counters);
}
