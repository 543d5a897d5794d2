// Shared by the benchmarks: deterministic inputs, onnxruntime-node timing, and median/min/max.
import * as ort from 'onnxruntime-node';
import type { HarnessTensor } from '../e2e/support/ort-page.ts';

const wave = (n: number) => Array.from({ length: n }, (_, i) => Math.sin(i * 0.37));
/** A float32 input with a fixed, non-trivial pattern. */
export const waveTensor = (dims: number[]): HarnessTensor => ({ dtype: 'float32', dims, data: wave(dims.reduce((a, b) => a * b, 1)) });

export function hostFeeds(feeds: Record<string, HarnessTensor>): Record<string, ort.Tensor> {
  const out: Record<string, ort.Tensor> = {};
  for (const [k, v] of Object.entries(feeds)) out[k] = v.dtype === 'int64' ? new ort.Tensor('int64', BigInt64Array.from(v.data, (x) => BigInt(x)), v.dims) : new ort.Tensor('float32', Float32Array.from(v.data), v.dims);
  return out;
}

/** Wall times (ms) of `runs` onnxruntime-node runs after one warm-up; `model` is bytes or a path (external data beside it). */
export async function nodeTimes(model: string | Uint8Array, feeds: Record<string, HarnessTensor>, runs: number): Promise<number[]> {
  const opts = { graphOptimizationLevel: 'all' } as const;
  const s = typeof model === 'string' ? await ort.InferenceSession.create(model, opts) : await ort.InferenceSession.create(model, opts);
  const f = hostFeeds(feeds);
  await s.run(f);
  const out: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await s.run(f);
    out.push(performance.now() - t0);
  }
  await s.release();
  return out;
}

export interface Stats { median: number; min: number; max: number; runs: number }
export function stats(xs: number[]): Stats {
  const s = [...xs].sort((a, b) => a - b);
  return { median: s[Math.floor(s.length / 2)]!, min: s[0]!, max: s[s.length - 1]!, runs: s.length };
}
