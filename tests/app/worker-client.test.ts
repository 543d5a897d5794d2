// EngineClient against a scripted worker: replies are routed to their request, and an error that
// belongs to no request (id null, nothing pending — e.g. the model was lost after a GPU fault and
// reloading it failed) reaches the app instead of being dropped.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ErrorInfo, PackInfo, WorkerEvent, WorkerRequest } from '../../src/protocol.ts';
import { EngineClient } from '../../src/app/worker-client.ts';

class ScriptedWorker extends EventTarget {
  sent: WorkerRequest[] = [];
  postMessage(m: WorkerRequest) { this.sent.push(m); }
  terminate() {}
  emit(ev: WorkerEvent) { this.dispatchEvent(Object.assign(new Event('message'), { data: ev })); }
}

const PACK = { name: 'p' } as PackInfo;
const LOST: ErrorInfo = { code: 'device-lost', message: 'reloading the model after a GPU reset failed', recoverable: true };

function setup() {
  const w = new ScriptedWorker();
  const client = new EngineClient(() => w as unknown as Worker);
  const seen: ErrorInfo[] = [];
  client.onUnsolicitedError = (e) => seen.push(e);
  return { w, client, seen };
}

test('an id-null error after the load reaches onUnsolicitedError', async () => {
  const { w, client, seen } = setup();
  const loaded = client.load({ kind: 'builtin' });
  w.emit({ type: 'loaded', pack: PACK });
  assert.equal(await loaded, PACK);
  w.emit({ type: 'error', id: null, error: LOST });
  assert.deepEqual(seen, [LOST]);
});

test('an id-null error while loading rejects the load (not reported twice)', async () => {
  const { w, client, seen } = setup();
  const loaded = client.load({ kind: 'builtin' });
  w.emit({ type: 'error', id: null, error: LOST });
  await assert.rejects(loaded, (e: { code?: string }) => e.code === 'device-lost');
  assert.deepEqual(seen, []);
});

const REQ = { prompt: 'x', negativePrompt: '', seed: 1, steps: 2, guidanceScale: 7, sampler: 'ddim' } as const;

test('an id-null error during a generation fails that generation and still reaches the app (the model may be gone)', async () => {
  const { w, client, seen } = setup();
  const loaded = client.load({ kind: 'builtin' });
  w.emit({ type: 'loaded', pack: PACK });
  await loaded;
  const run = client.generate(REQ);
  // A token count waiting at the same time is not failed by it (the tokenizer answers on its own).
  const tokens = client.countTokens('x');
  w.emit({ type: 'error', id: null, error: LOST });
  await assert.rejects(run.done, (e: { code?: string }) => e.code === 'device-lost');
  assert.deepEqual(seen, [LOST]);
  w.emit({ type: 'tokens', id: (w.sent.at(-1) as { id: string }).id, count: 1 });
  assert.equal(await tokens, 1);
});

test('the worker dying after the load reaches the app, with or without a generation waiting', async () => {
  for (const waiting of [false, true]) {
    const { w, client, seen } = setup();
    const loaded = client.load({ kind: 'builtin' });
    w.emit({ type: 'loaded', pack: PACK });
    await loaded;
    const run = waiting ? client.generate(REQ) : null;
    w.dispatchEvent(Object.assign(new Event('error'), { message: 'out of memory' }));
    if (run) await assert.rejects(run.done, (e: { code?: string }) => e.code === 'internal');
    assert.equal(seen.length, 1, `waiting=${waiting}`);
    assert.match(seen[0]!.message, /out of memory/);
  }
});

test('the worker dying during a load fails the load only (no second report)', async () => {
  const { w, client, seen } = setup();
  const loaded = client.load({ kind: 'builtin' });
  w.dispatchEvent(Object.assign(new Event('error'), { message: 'boom' }));
  await assert.rejects(loaded, (e: { code?: string }) => e.code === 'internal');
  assert.deepEqual(seen, []);
});
