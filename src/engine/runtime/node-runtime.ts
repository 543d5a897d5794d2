// Node runtime: onnxruntime-node on the CPU with Float32Array tensors. Imported only by Node code
// (tests, CLIs, benchmarks) — never by the worker bundle.
import * as ort from 'onnxruntime-node';
import type { ComputePrecision } from '../../protocol.ts';
import { CpuDevice } from './cpu-device.ts';
import type { OrtModule, Runtime } from './runtime.ts';

/** `compute: 'fp16'` runs packs' fp16-compute graphs on the CPU (ORT casts where it has no fp16 kernel): tests use it to check those graphs end to end. */
export function createNodeRuntime(opts: { threads?: number; compute?: ComputePrecision } = {}): Runtime {
  const mod = ort as unknown as OrtModule;
  const device = new CpuDevice(mod);
  return {
    ort: mod,
    device,
    provider: 'cpu',
    compute: opts.compute ?? 'fp32',
    sessionOptions: () => ({ executionProviders: ['cpu'], graphOptimizationLevel: 'all', intraOpNumThreads: opts.threads ?? 0 }),
  };
}
