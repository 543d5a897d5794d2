// The worker host in Node: the fake engine (tests/support/fake-engine.ts) behind the real host,
// with video sinks that count frames instead of encoding. Checks the protocol the app relies on:
// load events, progress and one result per stage, cancel, typed errors (load failures with id null).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { GenerateRequest, StageVideo, WorkerEvent } from '../../src/protocol.ts';
import { EncoderUnsupportedError } from '../../src/video/index.ts';
import { createEngineHost } from '../../workers/engine-host.ts';
import type { VideoOutput } from '../../workers/video-sink.ts';
import { createFakeEngine } from '../support/fake-engine.ts';

/** Sinks that check each frame against the planned video and count. */
function countingOutput(opened: StageVideo[] = []): VideoOutput {
  return async (v) => {
    opened.push(v);
    let frames = 0;
    let done = false;
    return {
      get frames() {
        return frames;
      },
      async add(f) {
        assert.deepEqual([f.width, f.height, f.index], [v.width, v.height, frames], 'frame size and order');
        frames++;
      },
      async finish() {
        assert.ok(!done, 'finished once');
        done = true;
        return { video: new Blob([new Uint8Array(frames)]), meta: { frames, width: v.width, height: v.height, fps: v.fps, codec: 'test', mimeType: 'video/test' } };
      },
      async cancel() {},
    };
  };
}

function host(pack = 'fake:?loadMs=0&stepMs=1', output = countingOutput()) {
  const events: WorkerEvent[] = [];
  const h = createEngineHost((e) => events.push(e), (ref, ctx) => {
    ctx.onProgress({ phase: 'download', step: 1, total: 1, elapsedMs: 0 });
    return createFakeEngine(ref);
  }, output);
  h.handle({ type: 'load', pack: { kind: 'url', baseUrl: pack } });
  return { h, events, of: (id: string | null) => events.filter((e) => 'id' in e && e.id === id) };
}

const request = (over: Partial<GenerateRequest> = {}): GenerateRequest => ({ id: 'r1', prompt: 'a red ball', negativePrompt: '', seed: 3, steps: 4, guidanceScale: 7.5, sampler: 'ddim', ...over });

test('load: progress with id null, then loaded with the pack', async () => {
  const { h, events } = host();
  await h.idle();
  const loaded = events.findIndex((e) => e.type === 'loaded');
  assert.ok(loaded > 0);
  assert.ok(events.slice(0, loaded).every((e) => e.type === 'progress' && e.id === null));
  assert.deepEqual(events.slice(0, loaded).map((e) => e.type === 'progress' && e.progress.phase), ['load', 'download', 'load']);
  assert.equal(events[loaded]!.type === 'loaded' && events[loaded].pack.name, 'fake-test-pack');
});

test('count-tokens is answered at once: null before a pack is loaded, then the engine\'s count', async () => {
  const events: WorkerEvent[] = [];
  const h = createEngineHost((e) => events.push(e), createFakeEngine, countingOutput());
  h.handle({ type: 'count-tokens', id: 't1', text: 'a red ball' });
  h.handle({ type: 'load', pack: { kind: 'url', baseUrl: 'fake:?loadMs=0' } });
  await h.idle();
  h.handle({ type: 'count-tokens', id: 't2', text: 'a red ball' });
  assert.deepEqual(events.filter((e) => e.type === 'tokens').map((e) => e.type === 'tokens' && [e.id, e.count]), [['t1', null], ['t2', 3]]);
});

test('plan is answered at once: null before a pack is loaded or for a stage it lacks, then the stages with their work', async () => {
  const events: WorkerEvent[] = [];
  const h = createEngineHost((e) => events.push(e), createFakeEngine, countingOutput());
  h.handle({ type: 'plan', id: 'p1', request: request() });
  h.handle({ type: 'load', pack: { kind: 'url', baseUrl: 'fake:?loadMs=0' } });
  await h.idle();
  h.handle({ type: 'plan', id: 'p2', request: request({ steps: 7 }) });
  h.handle({ type: 'plan', id: 'p3', request: request({ interpolate: true }) });
  const plans = events.flatMap((e) => (e.type === 'plan' ? [[e.id, e.stages?.map((s) => [s.stage, s.work.denoise]) ?? null]] : []));
  assert.deepEqual(plans, [['p1', null], ['p2', [['base', 7]]], ['p3', null]]);
});

test('a base generation: progress in order, previews, one final result with the planned video', async () => {
  const opened: StageVideo[] = [];
  const { h, of } = host(undefined, countingOutput(opened));
  h.handle({ type: 'generate', request: request() });
  await h.idle();
  const ev = of('r1');
  const denoise = ev.flatMap((e) => (e.type === 'progress' && e.progress.phase === 'denoise' ? [e.progress.step] : []));
  assert.deepEqual(denoise, [1, 2, 3, 4]);
  assert.equal(ev.filter((e) => e.type === 'preview').length, 4);
  const results = ev.filter((e) => e.type === 'result');
  assert.equal(results.length, 1);
  const r = results[0]!;
  assert.ok(r.type === 'result' && r.stage === 'base' && r.final && r.meta.frames === 16 && r.meta.seed === 3 && r.video.size === 16);
  assert.deepEqual(opened, [{ frames: 16, width: 128, height: 80, fps: 8 }]);
  assert.equal(ev.at(-1), r, 'the result is the last event');
});

test('two stages: one sink and one result per stage, the first not final', async () => {
  const opened: StageVideo[] = [];
  const { h, of } = host('fake:?loadMs=0&stepMs=1&interp=1', countingOutput(opened));
  h.handle({ type: 'generate', request: request({ interpolate: true }) });
  await h.idle();
  const results = of('r1').flatMap((e) => (e.type === 'result' ? [[e.stage, e.final, e.meta.frames, e.meta.fps]] : []));
  assert.deepEqual(results, [['base', false, 16, 8], ['interp', true, 61, 24]]);
  assert.deepEqual(opened.map((v) => v.frames), [16, 61], 'both sinks opened before the run');
  const encode = of('r1').flatMap((e) => (e.type === 'progress' && e.progress.phase === 'encode' ? [`${e.progress.stage} ${e.progress.stageIndex}/${e.progress.stageCount}`] : []));
  assert.deepEqual(encode, ['base 1/2', 'interp 2/2']);
});

test('cancel: one cancelled event, nothing after it, and the host runs the next request', async () => {
  const { h, events, of } = host('fake:?loadMs=0&stepMs=5');
  await h.idle();
  h.handle({ type: 'generate', request: request({ steps: 50 }) });
  while (!of('r1').some((e) => e.type === 'progress' && e.progress.phase === 'denoise')) await new Promise((r) => setTimeout(r, 1));
  h.handle({ type: 'cancel', id: 'r1' });
  const at = events.length;
  h.handle({ type: 'cancel', id: 'r1' }); // twice: still one event
  await h.idle();
  assert.deepEqual(events.slice(at - 1).map((e) => e.type), ['cancelled']);
  h.handle({ type: 'generate', request: request({ id: 'r2', steps: 1 }) });
  await h.idle();
  assert.ok(of('r2').some((e) => e.type === 'result' && e.final));
});

test('errors: a bad request, a stage the pack lacks, no engine yet and an unsupported video are typed errors with the request id', async () => {
  const { h, of } = host();
  h.handle({ type: 'generate', request: request({ id: 'empty', prompt: '  ' }) });
  h.handle({ type: 'generate', request: request({ id: 'vsr', superResolve: true }) });
  await h.idle();
  assert.deepEqual(of('empty').map((e) => e.type === 'error' && e.error.code), ['bad-request']);
  assert.deepEqual(of('vsr').map((e) => e.type === 'error' && e.error.code), ['bad-request']);

  const failedLoad = createEngineHost(() => {}, async () => { throw new Error('no'); }, countingOutput());
  const events: WorkerEvent[] = [];
  const noEngine = createEngineHost((e) => events.push(e), createFakeEngine, countingOutput());
  noEngine.handle({ type: 'generate', request: request() });
  await noEngine.idle();
  await failedLoad.idle();
  assert.deepEqual(events.map((e) => e.type === 'error' && [e.id, e.error.code]), [['r1', 'bad-request']]);

  const unsupported = host(undefined, async () => { throw new EncoderUnsupportedError('not here'); });
  unsupported.h.handle({ type: 'generate', request: request() });
  await unsupported.h.idle();
  const ev = unsupported.of('r1');
  assert.deepEqual(ev.map((e) => e.type === 'error' && e.error.code), ['encoder-unsupported'], 'fails before any engine work');
});

test('an engine failure mid-run: error with the id, no result; out of GPU memory rebuilds the engine', async () => {
  const { h, events, of } = host('fake:?loadMs=0&stepMs=1&fail=gpu-oom&failAt=2');
  await h.idle();
  h.handle({ type: 'generate', request: request() });
  await h.idle();
  await h.idle(); // the rebuild the failure queued
  assert.deepEqual(of('r1').map((e) => e.type === 'error' && e.error.code).filter(Boolean), ['gpu-oom']);
  assert.ok(!of('r1').some((e) => e.type === 'result'));
  assert.equal(events.filter((e) => e.type === 'loaded').length, 2, 'reloaded after the OOM');
});

test('out of GPU memory teaches a budget: the rebuilt engine gets 90 % of the peak the failed one held', async () => {
  const budgets: (number | undefined)[] = [];
  const events: WorkerEvent[] = [];
  const h = createEngineHost((e) => events.push(e), async (ref, ctx) => {
    budgets.push(ctx.budgetBytes);
    const e = await createFakeEngine(ref);
    const report = { liveBytes: 0, peakBytes: 1000, buffers: 0, owners: { ort: { liveBytes: 0, peakBytes: 900 }, kernels: { liveBytes: 0, peakBytes: 100 } }, phases: {} };
    return Object.assign(e, { gpuMemory: () => report });
  }, countingOutput());
  h.handle({ type: 'load', pack: { kind: 'url', baseUrl: 'fake:?loadMs=0&stepMs=1&fail=gpu-oom&failAt=2' } });
  await h.idle();
  h.handle({ type: 'generate', request: request() });
  await h.idle();
  await h.idle();
  assert.deepEqual(budgets, [undefined, 900]);
});

test('a load failure is an error with id null and its code; cancel-load ends a load as cancelled', async () => {
  const { h, of } = host('fake:?loadFail=no-webgpu&loadMs=0');
  await h.idle();
  const errors = of(null).filter((e) => e.type === 'error');
  assert.deepEqual(errors.map((e) => e.type === 'error' && [e.error.code, e.error.recoverable]), [['no-webgpu', false]]);

  const events: WorkerEvent[] = [];
  const waiting = createEngineHost((e) => events.push(e), (_ref, ctx) => new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(new Error('aborted')))), countingOutput());
  waiting.handle({ type: 'load', pack: { kind: 'builtin' } });
  await new Promise((r) => setTimeout(r, 1));
  waiting.handle({ type: 'cancel-load' });
  await waiting.idle();
  assert.deepEqual(events.filter((e) => e.type === 'error').map((e) => e.type === 'error' && [e.id, e.error.code]), [[null, 'cancelled']]);
  assert.ok(!events.some((e) => e.type === 'loaded'));
});
