// Where the engine keeps its tensors between ORT calls, and the few elementwise ops it needs
// (CFG combine + sampler update, frame extraction, RGBA conversion). Two implementations:
//   CpuDevice    — Float32Arrays; Node tests and the wasm fallback;
//   WebGpuDevice — GPUBuffers on the one GPUDevice shared with ORT; custom WGSL kernels.
// The pipeline is written once against this interface.
import type * as ortTypes from 'onnxruntime-common';

export interface DeviceTensor {
  readonly dims: readonly number[];
  readonly size: number;
}

/** A term of an elementwise linear combination: coefficient × tensor. */
export type Term = readonly [DeviceTensor, number];

/** Counters that tests and the benchmark assert on (issue: waste counters). */
export interface DeviceCounters {
  readbacks: number;
  readbackBytes: number;
  uploads: number;
  uploadBytes: number;
  kernelDispatches: number;
}

export interface TensorDevice {
  readonly kind: 'cpu' | 'webgpu';
  readonly counters: DeviceCounters;
  /** Tensors allocated and not yet freed (leak checks). */
  readonly liveTensors: number;

  alloc(dims: readonly number[]): DeviceTensor;
  free(t: DeviceTensor): void;
  upload(t: DeviceTensor, data: Float32Array): void;
  /** GPU→CPU copy. Inside the denoising loop only the optional preview may call this. */
  read(t: DeviceTensor): Promise<Float32Array>;

  /** out = Σ cᵢ·tᵢ (elementwise; `out` may be one of the terms). */
  linear(out: DeviceTensor, terms: readonly Term[]): void;
  /**
   * Classifier-free guidance + sampler update in one pass. `eps2` is the UNet output for the
   * batch [uncond, cond] (each half of `x`'s size): ε = ε_u + g·(ε_c − ε_u);
   * out = a·x + b·ε + c·noise (noise may be null when c = 0). `out` may be `x`.
   */
  guidedUpdate(out: DeviceTensor, x: DeviceTensor, eps2: DeviceTensor, noise: DeviceTensor | null, k: { g: number; a: number; b: number; c: number }): void;
  /** out2 = [s·x, s·x] (the CFG batch of the model input). */
  duplicate(out2: DeviceTensor, x: DeviceTensor, s: number): void;
  /** out[1,C,H,W] = s · video[0,:,f] for an NCFHW video with N = 1. */
  extractFrame(out: DeviceTensor, video: DeviceTensor, f: number, s: number): void;
  /**
   * RGBA bytes of an image [1,3,H,W] in [-1,1], alpha 255: 'round' = round((y/2+0.5)·255) clamped
   * (LaVie base/interpolation); 'truncate' = trunc(clamp(y/2+0.5, 0, 1)·255) (LaVie VSR).
   */
  toRgba(image: DeviceTensor, mode?: 'round' | 'truncate'): Promise<Uint8Array>;
  /**
   * out[c, f, y, x] = s · src[c, f0+f, y0+y, x0+x] for N = 1 tensors [1,C,F,H,W] (or [1,C,H,W],
   * F = 1): a window of frames, a spatial tile, or both; the size is out's.
   */
  crop(out: DeviceTensor, src: DeviceTensor, at: Offset5, s?: number): void;
  /**
   * Blend a tile into a larger tensor: acc[c, f0+f, y0+y, x0+x] += w[y, x] · (a + g·(b − a)),
   * with a, b tiles shaped like the region ([1,C,F,th,tw] or [1,C,th,tw]); `b` null means a alone.
   * a/b may be halves of one [2,…] tensor (element offsets aOff/bOff).
   */
  accumulateTile(acc: DeviceTensor, tile: { a: DeviceTensor; aOff?: number; b?: DeviceTensor | null; bOff?: number; g?: number; weights: DeviceTensor; dims: readonly number[] }, at: Offset5): void;

  /** View a device tensor as an ORT tensor (zero-copy on WebGPU). */
  asOrt(t: DeviceTensor): ortTypes.Tensor;
  /** Copy/adopt an ORT output into a device tensor. */
  fromOrt(t: ortTypes.Tensor, into: DeviceTensor): void;
  /** True if ORT may write outputs directly into our tensors (pre-allocated fetches). */
  readonly bindsOutputs: boolean;

  /** Wait until all queued work has finished (for timing and before reads). */
  sync(): Promise<void>;
  dispose(): void;
}

/** Frame/row/column offset of a window or tile inside an N = 1 video (or image: f0 = 0). */
export interface Offset5 { f0?: number; y0?: number; x0?: number }

/** [C, F, H, W] of an N = 1 tensor [1,C,F,H,W] or [1,C,H,W] (F = 1). */
export function cfhw(dims: readonly number[]): [number, number, number, number] {
  if (dims.length === 5) return [dims[1]!, dims[2]!, dims[3]!, dims[4]!];
  if (dims.length === 4) return [dims[1]!, 1, dims[2]!, dims[3]!];
  throw new Error(`expected [1,C,F,H,W] or [1,C,H,W], got [${dims}]`);
}

export function numelOf(dims: readonly number[]): number {
  return dims.reduce((s, d) => s * d, 1);
}

/**
 * Tensors a pipeline step owns: allocated through the scope, freed together (also on cancel or
 * error, from a `finally`), or early with `free`.
 */
export class TensorScope {
  private owned = new Set<DeviceTensor>();
  constructor(private readonly dev: TensorDevice) {}

  alloc(dims: readonly number[]): DeviceTensor {
    const t = this.dev.alloc(dims);
    this.owned.add(t);
    return t;
  }

  /** alloc + upload */
  from(dims: readonly number[], data: Float32Array): DeviceTensor {
    const t = this.alloc(dims);
    this.dev.upload(t, data);
    return t;
  }

  free(...ts: (DeviceTensor | null | undefined)[]): void {
    for (const t of ts) if (t && this.owned.delete(t)) this.dev.free(t);
  }

  dispose(): void {
    for (const t of this.owned) this.dev.free(t);
    this.owned.clear();
  }
}
