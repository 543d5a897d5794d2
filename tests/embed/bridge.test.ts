// The embed's gatekeeper (src/embed/bridge.ts): allow-lists, message validation and routing.
// Fuzzed: no input from another window or origin, and no malformed message, reaches the engine;
// nothing throws; events go only to the allowed origin.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { allowedOrigins, createBridge, embeddingOrigin, parseHostMessage, parseOrigins, toGenerateRequest } from '../../src/embed/bridge.ts';
import { EMBED_PROTOCOL } from '../../src/embed/protocol.ts';
import { LIMITS, type PackInfo } from '../../src/protocol.ts';

const pack = { name: 't', bytes: 1, testWeights: true, width: 32, height: 32, frames: 16, fps: 8, defaults: { steps: 50, guidanceScale: 7.5, sampler: 'ddpm' }, stages: {}, device: 'cpu' } as PackInfo;
const HOST = 'https://host.example';

function harness() {
  const parent = { sent: [] as { msg: unknown; origin: string }[], postMessage(msg: unknown, origin: string) { this.sent.push({ msg, origin }); } };
  const calls: unknown[] = [];
  const cancels: string[] = [];
  const bridge = createBridge({
    parentOrigin: HOST,
    parent,
    pack: () => pack,
    randomSeed: () => 42,
    engine: {
      generate(req, cb) {
        calls.push(req);
        cb.onProgress?.({ phase: 'denoise', step: 1, total: 2, elapsedMs: 1 });
        return { id: `e${calls.length}`, done: Promise.resolve({ video: new Blob(['x'], { type: 'video/mp4' }), meta: { frames: 16, width: 32, height: 32, fps: 8, codec: 'avc1', mimeType: 'video/mp4', seed: 42, elapsedMs: 1 }, stage: 'base' as const }) };
      },
      cancel: (id) => cancels.push(id),
    },
  });
  return { parent, calls, cancels, bridge };
}

test('origins: only exact http(s) origins; the deployer list narrows the host list', () => {
  assert.deepEqual(parseOrigins('https://a.example, http://b.example:8080 https://a.example'), ['https://a.example', 'http://b.example:8080']);
  assert.deepEqual(parseOrigins('https://a.example/path * null javascript:alert(1) file:///x data:text/html,x'), []);
  assert.deepEqual(allowedOrigins('https://a.example,https://b.example', 'https://b.example'), ['https://b.example']);
  assert.deepEqual(allowedOrigins('https://a.example', ''), ['https://a.example']);
  assert.equal(embeddingOrigin(['https://a.example'], 'https://a.example', ''), 'https://a.example');
  assert.equal(embeddingOrigin(['https://a.example'], 'https://evil.example', 'https://a.example/page'), null);
  assert.equal(embeddingOrigin(['https://a.example'], undefined, 'https://a.example/page'), 'https://a.example');
  assert.equal(embeddingOrigin(['https://a.example'], undefined, ''), null);
});

test('a valid request from the parent at the allowed origin runs with pack defaults; events go to that origin only', async () => {
  const h = harness();
  assert.equal(h.bridge.onMessage({ origin: HOST, source: h.parent, data: { protocol: EMBED_PROTOCOL, type: 'generate', id: 'r1', request: { prompt: ' a cat ', steps: 3, extra: 'dropped' } } }), true);
  assert.deepEqual(h.calls, [{ prompt: 'a cat', negativePrompt: '', seed: 42, steps: 3, guidanceScale: 7.5, sampler: 'ddpm' }]);
  await new Promise((r) => setTimeout(r, 0));
  assert.deepEqual(h.parent.sent.map((s) => [(s.msg as { type: string }).type, s.origin]), [['progress', HOST], ['result', HOST]]);
  assert.ok(h.parent.sent.every((s) => (s.msg as { protocol: string }).protocol === EMBED_PROTOCOL));
});

test('wrong origin or wrong window: ignored, nothing posted', () => {
  const h = harness();
  const data = { protocol: EMBED_PROTOCOL, type: 'generate', id: 'r1', request: { prompt: 'x' } };
  assert.equal(h.bridge.onMessage({ origin: 'https://evil.example', source: h.parent, data }), false);
  assert.equal(h.bridge.onMessage({ origin: HOST, source: {}, data }), false);
  assert.equal(h.bridge.onMessage({ origin: 'null', source: null, data }), false);
  assert.equal(h.calls.length, 0);
  assert.equal(h.parent.sent.length, 0);
});

test('fuzz: arbitrary messages from anywhere never throw, and only well-formed ones from the parent reach the engine', () => {
  const origin = fc.oneof(fc.constant(HOST), fc.constant('https://evil.example'), fc.constant('null'), fc.webUrl());
  const request = fc.record({
    prompt: fc.oneof(fc.string(), fc.constant(''), fc.string({ minLength: 1999, maxLength: 2100 }), fc.integer()),
    steps: fc.oneof(fc.integer({ min: -5, max: 2000 }), fc.double(), fc.string()),
    seed: fc.oneof(fc.integer(), fc.constant(2 ** 32), fc.double()),
    sampler: fc.oneof(fc.constantFrom('ddpm', 'ddim', 'euler', 'dpm++2m', 'evil'), fc.integer()),
    guidanceScale: fc.oneof(fc.double(), fc.constant(Number.NaN)),
    interpolate: fc.oneof(fc.boolean(), fc.string()),
    __proto__: fc.object(),
  }, { requiredKeys: [] });
  const validRequest = fc.record({
    prompt: fc.string({ minLength: 1, maxLength: 60 }).filter((x) => x.trim().length > 0),
    steps: fc.integer({ min: 1, max: 1000 }),
    seed: fc.integer({ min: 0, max: 0xffffffff }),
    sampler: fc.constantFrom('ddpm', 'ddim', 'euler', 'dpm++2m'),
    superResolve: fc.boolean(),
  }, { requiredKeys: ['prompt'] });
  const message = fc.oneof(
    fc.anything(),
    fc.record({ protocol: fc.constant(EMBED_PROTOCOL), type: fc.constant('generate'), id: fc.constantFrom('a', 'r-1', 'x.y:2'), request: validRequest }),
    fc.record({ protocol: fc.oneof(fc.constant(EMBED_PROTOCOL), fc.string()), type: fc.constantFrom('generate', 'cancel', 'load', 'eval'), id: fc.oneof(fc.string(), fc.integer(), fc.constant('ok-1')), request: fc.oneof(request, fc.anything()) }, { requiredKeys: [] }),
  );
  let reached = 0;
  fc.assert(fc.property(origin, fc.boolean(), message, (o, fromParent, data) => {
    const h = harness();
    const accepted = h.bridge.onMessage({ origin: o, source: fromParent ? h.parent : {}, data });
    const parsed = parseHostMessage(data);
    if (o !== HOST || !fromParent) {
      assert.equal(accepted, false);
      assert.equal(h.calls.length, 0);
      assert.equal(h.parent.sent.length, 0);
    } else {
      assert.equal(accepted, parsed !== null);
      if (parsed?.type === 'generate') {
        // Either it runs, or the host hears why not (bad-request naming the field) — never both.
        const refused = toGenerateRequest(parsed.request, pack, () => 42);
        assert.equal(h.calls.length, refused.ok ? 1 : 0);
        if (!refused.ok) {
          assert.deepEqual(h.parent.sent.map((s) => s.msg), [{ protocol: EMBED_PROTOCOL, type: 'error', id: parsed.id, error: refused.error }]);
          assert.equal(refused.error.code, 'bad-request');
          assert.ok(refused.error.field);
        }
      } else assert.equal(h.calls.length, 0);
    }
    for (const s of h.parent.sent) assert.equal(s.origin, HOST);
    reached += h.calls.length;
  }), { seed: 20261201, numRuns: 3000 });
  assert.ok(reached > 20, `only ${reached} generated inputs were valid: the fuzzer must exercise both sides`);
});

test('a request outside the contract is answered with bad-request naming the field, and never runs', () => {
  const h = harness();
  for (const [id, request, field] of [['s', { prompt: 'x', steps: LIMITS.steps.max + 1 }, 'steps'], ['p', { prompt: '  ' }, 'prompt'], ['i', { prompt: 'x', interpolate: true }, 'interpolate'], ['g', { prompt: 'x', seed: -1 }, 'seed'], ['f', { prompt: 'x', frames: 17 }, 'frames']] as const) {
    assert.equal(h.bridge.onMessage({ origin: HOST, source: h.parent, data: { protocol: EMBED_PROTOCOL, type: 'generate', id, request } }), true);
    const ev = h.parent.sent.at(-1)!.msg as { type: string; id: string; error: { code: string; field?: string } };
    assert.deepEqual([ev.type, ev.id, ev.error.code, ev.error.field], ['error', id, 'bad-request', field]);
  }
  assert.equal(h.calls.length, 0);
});

test('long videos: the host\'s frames and prompt ranges reach the engine as the app\'s and the CLI\'s (DDIM by default, ranges checked by the contract)', () => {
  const h = harness();
  const long = { ...pack, lengths: [16, 32] } as PackInfo;
  const segments = [{ prompt: 'a cat walks', from: 0, to: 15 }, { prompt: 'a cat sits', from: 16, to: 31 }];
  const ok = toGenerateRequest({ prompt: 'a cat', frames: 32, segments }, long, () => 1);
  assert.deepEqual(ok, { ok: true, request: { prompt: 'a cat', negativePrompt: '', seed: 1, steps: 50, guidanceScale: 7.5, sampler: 'ddim', frames: 32, segments } });
  assert.equal(parseHostMessage({ protocol: EMBED_PROTOCOL, type: 'generate', id: 'l', request: { prompt: 'a cat', frames: 32, segments } })?.type, 'generate');
  for (const [request, field] of [
    [{ prompt: 'a cat', frames: 32, sampler: 'ddpm' }, 'frames'],
    [{ prompt: 'a cat', frames: 48, segments }, 'frames'],
    [{ prompt: 'a cat', frames: 32, segments: segments.slice(0, 1) }, 'segments'],
  ] as const) {
    const bad = toGenerateRequest(request, long, () => 1);
    assert.equal(bad.ok ? null : bad.error.field, field, JSON.stringify(request));
  }
  assert.equal(h.calls.length, 0);
});

test('cancel routes to the engine id of that host request', async () => {
  const h = harness();
  h.bridge.onMessage({ origin: HOST, source: h.parent, data: { protocol: EMBED_PROTOCOL, type: 'generate', id: 'r1', request: { prompt: 'x' } } });
  h.bridge.onMessage({ origin: HOST, source: h.parent, data: { protocol: EMBED_PROTOCOL, type: 'cancel', id: 'r1' } });
  assert.deepEqual(h.cancels, ['e1']);
});
