// Engine entry point for the worker: the browser runtime (onnxruntime-web/webgpu on our own
// GPUDevice) plus a pack source for the requested pack.
import type { PackRef } from '../protocol.ts';
import { openUrlPack } from '../packs/source.ts';
import { LaVieEngine, type LoadProgress } from './engine.ts';
import { createWebRuntime } from './runtime/web-runtime.ts';
import type { GenerationEngine } from './types.ts';

/** Where the built-in demo pack is served (generated into public/packs/tiny at build time). */
export function builtinPackUrl(): string {
  return new URL('packs/tiny/', new URL((import.meta as { env?: { BASE_URL?: string } }).env?.BASE_URL ?? '/', self.location.origin)).href;
}

export async function createEngine(pack: PackRef, opts: { onProgress?: (p: LoadProgress) => void } = {}): Promise<GenerationEngine> {
  const source = await openUrlPack(pack.kind === 'builtin' ? builtinPackUrl() : pack.baseUrl);
  const rt = await createWebRuntime();
  return LaVieEngine.load(rt, source, { onProgress: opts.onProgress });
}
