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
  /** RGBA bytes of an image [1,3,H,W] in [-1,1]: round((y/2+0.5)·255) clamped, alpha 255. */
  toRgba(image: DeviceTensor): Promise<Uint8Array>;

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

export function numelOf(dims: readonly number[]): number {
  return dims.reduce((s, d) => s * d, 1);
}
