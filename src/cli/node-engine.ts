// The engine in Node (onnxruntime-node on the CPU) for the command-line tools: the same LaVieEngine,
// request contract and stage plan as the browser's worker, on a pack folder. Frames come back per
// stage as the engine decodes them (the worker hands the same frames to its MP4 writer).
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { LaVieEngine } from '../engine/engine.ts';
import { createNodeRuntime } from '../engine/runtime/node-runtime.ts';
import type { GenerateHooks, RgbaFrame } from '../engine/types.ts';
import { openDirPack } from '../packs/sources/node-folder.ts';
import { defaultDemoPack } from '../packs/sources/builtin.ts';
import type { GenerateRequest, ProgressInfo, Stage, StageVideo } from '../protocol.ts';

/** The folder `npm run setup` builds the app's built-in pack into (the trained nano pack when it exists). */
export function defaultPackDir(root = process.cwd()): string {
  const dir = join(root, 'public', 'packs', defaultDemoPack((d) => existsSync(join(root, 'public', 'packs', d, 'manifest.json'))));
  return resolve(dir);
}

export async function loadNodeEngine(packDir: string, threads?: number): Promise<LaVieEngine> {
  if (!existsSync(join(packDir, 'manifest.json'))) throw new Error(`no model pack in ${packDir} (manifest.json missing); run npm run setup, or pass --pack`);
  return LaVieEngine.load(createNodeRuntime(threads ? { threads } : {}), openDirPack(packDir));
}

export interface StageFrames { stage: Stage; video: StageVideo; frames: RgbaFrame[] }

/** Run one request; every stage's frames, in order. `onStageFrame` sees each frame as it arrives. */
export async function generateFrames(
  engine: LaVieEngine,
  req: GenerateRequest,
  o: { onProgress?: (p: ProgressInfo) => void; onStageFrame?: (s: StageFrames, f: RgbaFrame) => Promise<void> | void; keep?: boolean; signal?: AbortSignal } = {},
): Promise<StageFrames[]> {
  const out: StageFrames[] = [];
  const hooks: GenerateHooks = {
    signal: o.signal ?? new AbortController().signal,
    onProgress: (p) => o.onProgress?.(p),
    onStageStart: (stage, video) => { out.push({ stage, video, frames: [] }); },
    onFrame: async (f) => {
      const s = out.at(-1)!;
      if (o.keep !== false) s.frames.push(f);
      await o.onStageFrame?.(s, f);
    },
  };
  await engine.generate(req, hooks);
  return out;
}
