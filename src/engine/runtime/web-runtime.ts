// Browser runtime: the one onnxruntime-web (its /webgpu entry, the version @huggingface/transformers
// pins) and the one GPUDevice. We create the device ourselves and hand it to every session: ORT's
// native WebGPU backend would otherwise create its own and destroy it when the last session closes,
// and our WGSL kernels must work on the very buffers ORT reads and writes.
import * as ort from 'onnxruntime-web/webgpu';
import { LaVieError } from '../../protocol/errors.ts';
import { CpuDevice } from './cpu-device.ts';
import type { OrtModule, Runtime } from './runtime.ts';
import { GpuMemoryCounter } from './gpu-memory.ts';
import { WebGpuDevice } from './webgpu-device.ts';

export class NoWebGpuError extends LaVieError {
  constructor(message: string) {
    super('no-webgpu', message);
  }
}

export interface WebRuntime extends Runtime {
  readonly gpu?: GPUDevice;
  readonly adapterInfo?: { features: string[]; maxBufferSize: number; maxStorageBufferBindingSize: number; shaderF16: boolean };
  /** Resolves if the device is lost (reason, message). */
  readonly lost?: Promise<GPUDeviceLostInfo>;
}

export interface WebRuntimeOptions {
  /** Where ORT's .mjs/.wasm live (served with the app, never a CDN). */
  wasmPaths?: string;
  /** Force the wasm fallback even when WebGPU exists. */
  preferWasm?: boolean;
  /** Fail with NoWebGpuError instead of falling back to wasm when there is no adapter. */
  requireWebGpu?: boolean;
  logLevel?: 'verbose' | 'info' | 'warning' | 'error' | 'fatal';
}

export async function createWebRuntime(opts: WebRuntimeOptions = {}): Promise<WebRuntime> {
  // @huggingface/transformers points ORT at a CDN copy of its wasm when it loads; we serve our own
  // (bundled next to ORT's script, or precached for offline use), so undo that.
  ort.env.wasm.wasmPaths = opts.wasmPaths;
  if (opts.logLevel) ort.env.logLevel = opts.logLevel;
  const mod = ort as unknown as OrtModule;
  const nav = (globalThis as { navigator?: Navigator }).navigator;
  const adapter = !opts.preferWasm && nav?.gpu ? await nav.gpu.requestAdapter({ powerPreference: 'high-performance' }) : null;
  if (!adapter) {
    // No WebGPU: run everything on onnxruntime-web's wasm backend (CPU) — much slower, but it works.
    if (opts.requireWebGpu) throw new NoWebGpuError('This browser exposes no WebGPU adapter. Use a recent Chrome or Edge with a supported GPU.');
    ort.env.wasm.numThreads = (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated ? Math.min(4, nav?.hardwareConcurrency ?? 1) : 1;
    return { ort: mod, device: new CpuDevice(mod), provider: 'wasm', compute: 'fp32', blobExternalData: true, sessionOptions: () => ({ executionProviders: ['wasm'], graphOptimizationLevel: 'all' }) };
  }
  // Ask for the adapter's full buffer limits: the defaults (256 MiB / 128 MiB) are far below what
  // the UNet's activations need.
  const requiredLimits: Record<string, number> = {
    maxBufferSize: adapter.limits.maxBufferSize,
    maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
    maxComputeWorkgroupStorageSize: adapter.limits.maxComputeWorkgroupStorageSize,
    maxComputeInvocationsPerWorkgroup: adapter.limits.maxComputeInvocationsPerWorkgroup,
    maxComputeWorkgroupSizeX: adapter.limits.maxComputeWorkgroupSizeX,
    maxStorageBuffersPerShaderStage: adapter.limits.maxStorageBuffersPerShaderStage,
  };
  const wanted: GPUFeatureName[] = ['shader-f16', 'subgroups', 'timestamp-query'];
  const requiredFeatures = wanted.filter((f) => adapter.features.has(f));
  const gpu = await adapter.requestDevice({ requiredLimits, requiredFeatures });
  // Counted before anyone else sees the device, so every buffer ORT or our kernels create is tallied.
  const memory = new GpuMemoryCounter();
  memory.install(gpu as unknown as import('./gpu-memory.ts').BufferFactory);
  ort.env.webgpu.adapter = adapter;
  const device = new WebGpuDevice(gpu, mod, memory);
  // Diagnostics and fault-injection tests reach the worker's device here (e.g. destroy() to simulate a loss).
  (globalThis as { __lavieGpuDevice?: GPUDevice }).__lavieGpuDevice = gpu;
  return {
    ort: mod,
    device,
    provider: 'webgpu',
    // fp16 halves activation memory and bandwidth; only where the device can run f16 shaders.
    compute: gpu.features.has('shader-f16') ? 'fp16' : 'fp32',
    blobExternalData: true,
    memory,
    gpu,
    dispose: () => gpu.destroy(),
    lost: gpu.lost,
    adapterInfo: {
      features: [...adapter.features],
      maxBufferSize: adapter.limits.maxBufferSize,
      maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
      shaderF16: adapter.features.has('shader-f16'),
    },
    limits: { maxBufferSize: gpu.limits.maxBufferSize, maxStorageBufferBindingSize: gpu.limits.maxStorageBufferBindingSize },
    sessionOptions: () => ({
      executionProviders: [{ name: 'webgpu', device: gpu } as ort.InferenceSession.ExecutionProviderConfig],
      graphOptimizationLevel: 'all',
    }),
  };
}
