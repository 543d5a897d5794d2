// The engine as the worker builds it: the pack opened the browser's way (open-pack.ts), then
// onnxruntime-web on our own GPUDevice (or its wasm fallback).
import type { PackRef } from '../src/protocol.ts';
import { LaVieEngine } from '../src/engine/engine.ts';
import { createWebRuntime } from '../src/engine/runtime/web-runtime.ts';
import type { GenerationEngine } from '../src/engine/types.ts';
import { openPack, type LoadContext } from './open-pack.ts';

export async function createEngine(pack: PackRef, ctx: LoadContext = {}): Promise<GenerationEngine> {
  const source = await openPack(pack, ctx);
  if (ctx.signal?.aborted) throw new DOMException('Loading cancelled.', 'AbortError');
  const rt = await createWebRuntime();
  const t0 = performance.now();
  return LaVieEngine.load(rt, source, {
    ...(ctx.budgetBytes !== undefined ? { budgetBytes: ctx.budgetBytes } : {}),
    onProgress: (p) => ctx.onProgress?.({ phase: 'load', step: p.loaded, total: p.total, elapsedMs: performance.now() - t0 }),
  });
}
