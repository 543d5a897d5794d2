// The Hub client against a local server that behaves like the Hub (tests/support/hub-server.ts):
// listing (recursive, paged), downloads through the 302 to the CDN origin, verification, resume,
// caching, and a typed error with what to do for each way it can go wrong.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, test } from 'node:test';
import { HubError, fetchHubFile, fetchHubFiles, hubEndpoint, hubStoreKey, listRepo, type HubFile } from '../../src/packs/download/hub.ts';
import { memoryStore } from '../../src/packs/storage/memory.ts';
import { startFakeHub } from '../support/hub-server.ts';

const hub = await startFakeHub();
after(() => hub.close());

const bytes = (n: number, seed: number) => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed * 7) & 255);
const big = bytes(300_000, 1);
const files = new Map<string, Uint8Array>([
  ['lavie_base.pt', big],
  ['vae/config.json', new TextEncoder().encode('{"a":1}')],
  ['vae/diffusion_pytorch_model.safetensors', bytes(50_000, 2)],
  ['tokenizer/vocab.json', new TextEncoder().encode('{"x":0}')],
]);
hub.setRepo('Org/Model', files);
const o = { endpoint: hub.endpoint, retries: 1, backoffMs: 10, maxBackoffMs: 20 };
const sha = (d: Uint8Array) => createHash('sha256').update(d).digest('hex');
const listed = async () => new Map((await listRepo(o, 'Org/Model', 'main')).map((f) => [f.path, f]));
const code = (c: string) => (e: unknown) => e instanceof HubError && e.code === c;

test('listing: every file of every folder (paged), sizes, sha256 of LFS files only', async () => {
  hub.pageSize = 2;
  const l = await listed();
  hub.pageSize = 1000;
  assert.deepEqual([...l.keys()].sort(), [...files.keys()].sort());
  assert.equal(l.get('lavie_base.pt')!.size, big.byteLength);
  assert.equal(l.get('lavie_base.pt')!.sha256, sha(big));
  assert.equal(l.get('vae/config.json')!.sha256, undefined);
  assert.ok(hub.hits.filter((h) => h.path.includes('/tree/')).length >= 3);
});

test('download: large files through the 302 to the CDN, small ones directly; verified, cached, nothing fetched twice', async () => {
  const store = memoryStore();
  const l = await listed();
  hub.hits.length = 0;
  let progressed = 0;
  const got = await fetchHubFiles(o, 'Org/Model', 'main', [...l.values()], store, (p) => { progressed = p.loaded; });
  assert.equal(progressed, [...files.values()].reduce((s, d) => s + d.byteLength, 0));
  for (const [p, d] of files) {
    const blob = await store.file(hubStoreKey('Org/Model'), got.get(p)!);
    assert.deepEqual(new Uint8Array(await blob!.arrayBuffer()), d, p);
  }
  assert.ok(hub.hits.some((h) => h.origin === 'api' && h.status === 302));
  assert.ok(hub.hits.some((h) => h.origin === 'cdn' && h.path === 'lavie_base.pt'));
  hub.hits.length = 0;
  await fetchHubFiles(o, 'Org/Model', 'main', [...l.values()], store);
  assert.deepEqual(hub.hits, []);
});

test('a connection cut half-way resumes with a Range request from where it stopped', async () => {
  const store = memoryStore();
  const f = (await listed()).get('lavie_base.pt')!;
  hub.hits.length = 0;
  hub.fault = { cut: { match: /lavie_base/, at: 0.5 } };
  await fetchHubFile(o, 'Org/Model', 'main', f, store);
  hub.fault = {};
  const cdn = hub.hits.filter((h) => h.origin === 'cdn');
  assert.equal(cdn.length, 2);
  assert.equal(cdn[1]!.range, `bytes=${cdn[0]!.bytes}-`);
  assert.equal(cdn[0]!.bytes + cdn[1]!.bytes, big.byteLength);
});

test('a connection that keeps breaking gives hub-cut; the next run resumes and finishes', async () => {
  const store = memoryStore();
  const f = (await listed()).get('lavie_base.pt')!;
  // Every attempt is cut at the same byte: after the first, no new bytes arrive and retries run out.
  hub.fault = { cut: { match: /lavie_base/, at: 0.3, times: 10 } };
  await assert.rejects(fetchHubFile(o, 'Org/Model', 'main', f, store), code('hub-cut'));
  hub.fault = {};
  hub.hits.length = 0;
  await fetchHubFile(o, 'Org/Model', 'main', f, store);
  assert.match(hub.hits.find((h) => h.origin === 'cdn')!.range ?? '', /^bytes=\d+-$/);
});

test('wrong bytes: hub-corrupt, nothing kept; a good copy then downloads (large and small files)', async () => {
  const store = memoryStore();
  const l = await listed();
  hub.fault = { corrupt: /lavie_base|config\.json/ };
  await assert.rejects(fetchHubFile(o, 'Org/Model', 'main', l.get('lavie_base.pt')!, store), code('hub-corrupt'));
  await assert.rejects(fetchHubFile(o, 'Org/Model', 'main', l.get('vae/config.json')!, store), code('hub-corrupt'));
  assert.deepEqual(await store.files(hubStoreKey('Org/Model')), []);
  assert.equal(await store.partial(hubStoreKey('Org/Model'), sha(big)), null);
  hub.fault = {};
  assert.equal(await fetchHubFile(o, 'Org/Model', 'main', l.get('lavie_base.pt')!, store), sha(big));
});

test('gated (401/403), missing (404) and offline each give their typed error with a next step', async () => {
  hub.setRepo('Org/Gated', files);
  hub.fault = { gated: new Set(['Org/Gated']) };
  await assert.rejects(listRepo(o, 'Org/Gated', 'main'), code('hub-gated'));
  const f: HubFile = (await listed()).get('lavie_base.pt')!;
  await assert.rejects(fetchHubFile(o, 'Org/Gated', 'main', f, memoryStore()), (e) => code('hub-gated')(e) && (e as HubError).status === 403);
  hub.fault = {};
  await assert.rejects(listRepo(o, 'Org/Nope', 'main'), code('hub-not-found'));
  await assert.rejects(listRepo(o, 'Org/Model', 'v9'), code('hub-not-found'));
  await assert.rejects(fetchHubFile(o, 'Org/Model', 'main', { ...f, path: 'gone.pt' }, memoryStore()), code('hub-not-found'));
  hub.fault = { status: { match: /tree/, code: 503 } };
  await assert.rejects(listRepo(o, 'Org/Model', 'main'), code('hub-unavailable'));
  hub.fault = {};
  const dead = { ...o, endpoint: 'http://127.0.0.1:9' };
  await assert.rejects(listRepo(dead, 'Org/Model', 'main'), code('hub-offline'));
  await assert.rejects(fetchHubFile(dead, 'Org/Model', 'main', f, memoryStore()), code('hub-offline'));
});

test('endpoint: build-time default, run-time override; in the browser an override must pass the host allow-list', () => {
  assert.equal(hubEndpoint(undefined), 'https://huggingface.co');
  assert.equal(hubEndpoint(undefined, 'https://mirror.example/'), 'https://mirror.example');
  assert.equal(hubEndpoint('http://127.0.0.1:5000/'), 'http://127.0.0.1:5000');
  const allow = { selfOrigin: 'https://app.example', hosts: ['https://huggingface.co', 'https://*.hf.co'] };
  assert.equal(hubEndpoint('https://huggingface.co', undefined, allow), 'https://huggingface.co');
  assert.throws(() => hubEndpoint('https://evil.example', undefined, allow), code('hub-endpoint-refused'));
  assert.throws(() => hubEndpoint('ftp://x', undefined), code('hub-endpoint-refused'));
  assert.throws(() => hubEndpoint('not a url'), code('hub-endpoint-refused'));
});
