// Node runtime: onnxruntime-node on the CPU with Float32Array tensors. Imported only by Node code
// (tests, CLIs, benchmarks) — never by the worker bundle.
import * as ort from 'onnxruntime-node';
import { CpuDevice } from './cpu-device.ts';
import type { OrtModule, Runtime } from './runtime.ts';

export function createNodeRuntime(opts: { threads?: number } = {}): Runtime {
  const mod = ort as unknown as OrtModule;
  const device = new CpuDevice(mod);
  return {
    ort: mod,
    device,
    provider: 'cpu',
    sessionOptions: () => ({ executionProviders: ['cpu'], graphOptimizationLevel: 'all', intraOpNumThreads: opts.threads ?? 0 }),
  };
}
