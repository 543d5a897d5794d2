// Run an emitted graph with onnxruntime-node (CPU, fp32). Used by the fixture CLI, parity tests
// and benchmarks; the browser runs the same bytes with onnxruntime-web. Node only: the graph goes
// through a temporary folder with its weights as external data, as in a pack, so networks of any
// size run (onnxruntime refuses an inline model over 2 GB).
import * as ort from 'onnxruntime-node';
import type { ComputePrecision } from '../../protocol.ts';
import { fp16Compute } from '../onnx/fp16-compute.ts';
import type { GraphBuilder } from '../onnx/graph.ts';
import { writeGraphToTemp } from '../cli/node-io.ts';
import type { DType } from '../tensor.ts';

export interface HostTensor { dtype: DType; shape: readonly number[]; data: Float32Array | BigInt64Array | Int32Array | Uint8Array }

/** `compute: 'fp16'` runs the graph's fp16-compute variant (ORT's CPU kernels, casting where it has no fp16 one). */
export async function runGraph(g: GraphBuilder, feeds: Record<string, HostTensor>, opts: { threads?: number; compute?: ComputePrecision } = {}): Promise<Record<string, HostTensor>> {
  const graph = opts.compute === 'fp16' ? fp16Compute(g) : g;
  const file = await writeGraphToTemp(graph);
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(file.path, {
      graphOptimizationLevel: 'all',
      intraOpNumThreads: opts.threads ?? 0,
    });
  } finally {
    file.dispose(); // the session holds its own copy of the weights
  }
  try {
    const ortFeeds: Record<string, ort.Tensor> = {};
    for (const [name, t] of Object.entries(feeds)) ortFeeds[name] = new ort.Tensor(t.dtype as 'float32', t.data as Float32Array, [...t.shape]);
    const out = await session.run(ortFeeds);
    const result: Record<string, HostTensor> = {};
    for (const [name, t] of Object.entries(out)) result[name] = { dtype: t.type as DType, shape: [...t.dims], data: t.data as Float32Array };
    return result;
  } finally {
    await session.release();
  }
}
