// The real engine (tiny pack) behind the worker host, as app.spec's shared page drives it: option 2
// finished, option 2 cancelled during interpolation (its VAE encoding of the base frames), then
// option 3 and option 2 again must finish. A request left hanging fails by the test's timeout.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { makeTinyPack } from '../../src/convert/cli/make-tiny-pack.ts';
import { LaVieEngine } from '../../src/engine/engine.ts';
import { createNodeRuntime } from '../../src/engine/runtime/node-runtime.ts';
import { openDirPack } from '../../src/packs/sources/node-folder.ts';
import type { GenerateRequest, WorkerEvent } from '../../src/protocol.ts';
import { createEngineHost } from '../../workers/engine-host.ts';
import type { VideoOutput } from '../../workers/video-sink.ts';

const packDir = mkdtempSync(join(tmpdir(), 'tinypack-cancel-'));
await makeTinyPack(packDir);

/** Sinks that only count frames. */
const counting: VideoOutput = async (v) => {
  let frames = 0;
  return {
    get frames() { return frames; },
    async add() { frames++; },
    async finish() { return { video: new Blob([new Uint8Array(frames)]), meta: { frames, width: v.width, height: v.height, fps: v.fps, codec: 'test', mimeType: 'video/test' } }; },
    async cancel() {},
  };
};

const request = (over: Partial<GenerateRequest>): GenerateRequest => ({ id: 'r', prompt: 'a river flowing through a forest', negativePrompt: '', seed: 11, steps: 1, guidanceScale: 7.5, sampler: 'ddim', ...over });

test('option 2 cancelled during interpolation: option 3 and option 2 after it finish', { timeout: 10 * 60_000 }, async () => {
  const events: WorkerEvent[] = [];
  const h = createEngineHost((e) => {
    events.push(e);
    if (e.type === 'progress' && e.id === 'cancelled' && e.progress.stage === 'interp' && e.progress.phase === 'condition') h.handle({ type: 'cancel', id: 'cancelled' });
  }, async () => LaVieEngine.load(createNodeRuntime(), openDirPack(packDir)), counting);
  h.handle({ type: 'load', pack: { kind: 'builtin' } });
  h.handle({ type: 'generate', request: request({ id: 'o2', interpolate: true }) });
  h.handle({ type: 'generate', request: request({ id: 'cancelled', interpolate: true, seed: 12 }) });
  h.handle({ type: 'generate', request: request({ id: 'o3', superResolve: true, seed: 21 }) });
  h.handle({ type: 'generate', request: request({ id: 'o2-again', interpolate: true, seed: 13 }) });
  await h.idle();
  assert.deepEqual(events.filter((e) => e.type === 'cancelled').map((e) => 'id' in e && e.id), ['cancelled']);
  assert.ok(!events.some((e) => e.type === 'error'), JSON.stringify(events.find((e) => e.type === 'error')));
  const finals = events.flatMap((e) => (e.type === 'result' && e.final ? [[e.id, e.stage, e.meta.frames]] : []));
  assert.deepEqual(finals, [['o2', 'interp', 61], ['o3', 'vsr', 16], ['o2-again', 'interp', 61]]);
});
