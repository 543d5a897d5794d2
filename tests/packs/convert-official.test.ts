// The browser's conversion job (src/packs/convert-official.ts — what workers/convert.worker.ts runs
// over OPFS) in Node over an in-memory store, against the local fake Hub serving official-format
// files (tiny, random weights): the stored pack equals `npm run convert`'s from the same files, file
// by file (sha256), for every precision; a cut resumes; cancel and bad Hub answers leave a pending
// job and no pack; originals are deleted unless kept; local files convert the same way.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, test } from 'node:test';
import { TINY_LATENT } from '../../src/convert/cli/make-tiny-pack.ts';
import { dirPackSink, nodeFolder } from '../../src/convert/cli/node-io.ts';
import type { Precisions } from '../../src/convert/catalogue.ts';
import type { WeightPrecision } from '../../src/convert/graphs/weights.ts';
import { bufferSource } from '../../src/convert/io/bytes.ts';
import { convertOfficial } from '../../src/convert/official.ts';
import { hubStoreKey } from '../../src/packs/download/hub.ts';
import { discardJob, jobKey, pendingJobs, runConvertJob, type ConvertEnv, type ConvertJobSpec, type ConvertProgress } from '../../src/packs/convert-official.ts';
import { packFiles, parseManifest } from '../../src/packs/manifest.ts';
import { memoryStore } from '../../src/packs/storage/memory.ts';
import { memoryScratch } from '../../src/packs/storage/pack-sink.ts';
import type { PackStore } from '../../src/packs/storage/pack-store.ts';
import { listStoredPacks } from '../../src/packs/storage/stored-packs.ts';
import { startFakeHub } from '../support/hub-server.ts';
import { folderFiles, writeTinyOfficialFiles } from '../support/official-files.ts';

const root = mkdtempSync(join(tmpdir(), 'convert-job-'));
const files = writeTinyOfficialFiles(root);
const vsrConfig = JSON.parse(readFileSync(files.vsrConfig, 'utf8')) as Record<string, unknown>;
const hub = await startFakeHub();
after(() => hub.close());
const lavie = folderFiles(files.lavie);
hub.setRepo('YaohuiW/LaVie', lavie);
hub.setRepo('CompVis/stable-diffusion-v1-4', folderFiles(files.sd14));
hub.setRepo('stabilityai/stable-diffusion-x4-upscaler', folderFiles(files.x4));
hub.setRepo('YaohuiW/LaVie', new Map([['lavie_base_v2.pt', lavie.get('lavie_base.pt')!]]), 'renamed');
hub.setRepo('YaohuiW/LaVie', new Map([['lavie_base.pt', lavie.get('lavie_interpolation.pt')!]]), 'swapped');

const ALL = 'base+interp+vsr';
const latent = { height: TINY_LATENT.height, width: TINY_LATENT.width };
const same = (p: WeightPrecision): Precisions => ({ unet: p, vae: p, text: p });
const spec = (p: WeightPrecision, extra: Partial<ConvertJobSpec> = {}): ConvertJobSpec => ({ source: 'hub', stages: ALL, precisions: same(p), hub: { endpoint: hub.endpoint }, latent, vsrConfig, name: 'same name', ...extra });
const env = (store: PackStore, extra: Partial<ConvertEnv> = {}): ConvertEnv => ({
  store, scratch: (key) => memoryScratch(store, key), openBlob: async (b) => bufferSource(new Uint8Array(await b.arrayBuffer())), retries: 2, backoffMs: 1, ...extra,
});
const sha = (d: Uint8Array) => createHash('sha256').update(d).digest('hex');

/** `npm run convert` with paths (in-process): path → sha256 of every file, and the manifest. */
async function nodePack(p: WeightPrecision, stages = ALL): Promise<{ hashes: Map<string, string>; manifest: unknown }> {
  const out = join(root, `node-${p}-${stages}`);
  const s = spec(p, { stages });
  await convertOfficial({
    base: { folder: nodeFolder(files.lavie), path: 'lavie_base.pt' },
    sd14: nodeFolder(files.sd14),
    ...(stages.includes('interp') ? { interp: { folder: nodeFolder(files.lavie), path: 'lavie_interpolation.pt' } } : {}),
    ...(stages.includes('vsr') ? { vsr: { checkpoint: { folder: nodeFolder(files.lavie), path: 'lavie_vsr.pt' }, x4: nodeFolder(files.x4), config: vsrConfig } } : {}),
  }, dirPackSink(out), { name: 'same name', unetPrecision: p, vaePrecision: p, textPrecision: p, latent: s.latent });
  const hashes = new Map(readdirSync(out, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => {
    const f = join(e.parentPath, e.name);
    return [relative(out, f).split('\\').join('/'), sha(readFileSync(f))];
  }));
  return { hashes, manifest: JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) };
}

/** The stored pack: path → sha256 of the bytes storage really holds (+ manifest.json's record). */
async function storedPack(store: PackStore, key: string): Promise<{ hashes: Map<string, string>; manifest: unknown }> {
  const manifest = await store.readJson(key, 'manifest');
  const hashes = new Map<string, string>();
  for (const f of packFiles(parseManifest(manifest))) hashes.set(f.path, sha(new Uint8Array(await (await store.file(key, f.sha256))!.arrayBuffer())));
  return { hashes, manifest };
}

async function assertEqualPacks(store: PackStore, key: string, p: WeightPrecision, stages = ALL) {
  const node = await nodePack(p, stages);
  const got = await storedPack(store, key);
  const nodeFiles = new Map([...node.hashes].filter(([path]) => path !== 'manifest.json'));
  assert.deepEqual(got.hashes, nodeFiles, `${p}: a file differs from the Node conversion's`);
  // The stored manifest is manifest.json parsed (storage keeps JSON documents, not files).
  assert.equal(sha(new TextEncoder().encode(JSON.stringify(got.manifest, null, 1))), node.hashes.get('manifest.json'));
}

const hubBlobs = async (store: PackStore) => (await Promise.all(['YaohuiW/LaVie', 'CompVis/stable-diffusion-v1-4', 'stabilityai/stable-diffusion-x4-upscaler'].map((r) => store.files(hubStoreKey(r))))).flat();

test('while a network converts, progress names the file being read and moves (the converter reads synchronously between writes)', async () => {
  const store = memoryStore();
  let t = 0;
  const seen: ConvertProgress[] = [];
  // A clock that moves 600 ms per look: every read is past the 500 ms between progress events.
  await runConvertJob(spec('fp16', { stages: 'base', name: 'progress' }), env(store, { now: () => (t += 600) }), { onProgress: (x) => seen.push(x) });
  const reads = seen.filter((x) => x.phase === 'convert' && x.reading === 'lavie_base.pt');
  assert.ok(reads.length >= 2, `progress while lavie_base.pt is read: ${reads.length}`);
  for (let k = 1; k < reads.length; k++) assert.ok(reads[k]!.done >= reads[k - 1]!.done);
  assert.ok(reads.at(-1)!.done > reads[0]!.done, 'the bytes read move');
});

test('hub job, every precision: lists, downloads (once), converts into the store; each stored file equals the Node conversion (sha256); progress by phase; originals deleted unless kept', async () => {
  const store = memoryStore();
  // Every stage at fp16 (the browser e2e's precision), the base networks at the others: the
  // quantization code is shared by all networks, and the suite's time is counted.
  const precisions = ['fp16', 'fp32', 'int8', 'int4'] as const;
  for (const [i, p] of precisions.entries()) {
    hub.hits.length = 0;
    const last = i === precisions.length - 1;
    const stages = i === 0 ? ALL : 'base';
    const s = spec(p, { name: 'same name', keepOriginals: !last, stages });
    const seen: ConvertProgress[] = [];
    const out = await runConvertJob(s, env(store), { onProgress: (x) => seen.push(x) });
    assert.equal(out.key, jobKey(s));
    await assertEqualPacks(store, out.key, p, stages);
    const phases = [...new Set(seen.map((x) => x.phase))];
    assert.deepEqual(phases, i === 0 ? ['list', 'download', 'convert', 'verify', 'done'] : ['list', 'download', 'convert', 'verify', 'done'].filter((ph) => ph !== 'download' || seen.some((x) => x.phase === 'download')));
    assert.ok(seen.some((x) => x.phase === 'convert' && x.item === 'base UNet'), 'each network is named while it converts');
    if (stages === ALL) assert.ok(seen.some((x) => x.item === 'super-resolution UNet'));
    for (let k = 1; k < seen.length; k++) assert.ok(seen[k]!.fraction >= seen[k - 1]!.fraction - 1e-9, 'the overall fraction never goes back');
    assert.equal(seen.at(-1)!.fraction, 1);
    if (i > 0) assert.deepEqual(hub.hits.filter((h) => h.origin === 'cdn'), [], 'kept originals were downloaded again');
    const listed = (await listStoredPacks(store)).find((x) => x.key === out.key)!;
    assert.equal(listed.complete, true);
    assert.deepEqual(await pendingJobs(store), []);
  }
  // The last job (base, not kept) deleted its originals; files only other choices use stay.
  const stored = new Set((await hubBlobs(store)).map((f) => f.sha256));
  assert.ok(!stored.has(sha(lavie.get('lavie_base.pt')!)), 'lavie_base.pt was kept although "keep" was off');
  assert.ok(!stored.has(sha(readFileSync(join(files.sd14, 'vae/diffusion_pytorch_model.safetensors')))));
  assert.ok(stored.has(sha(lavie.get('lavie_vsr.pt')!)), 'a file the job did not use was deleted');
});

test('hub job: a cut connection fails with hub-cut and leaves a pending job; running it again resumes with Range and completes', async () => {
  const store = memoryStore();
  const s = spec('fp16', { stages: 'base' });
  hub.hits.length = 0;
  hub.fault = { cut: { match: /lavie_base/, at: 0.5, times: 3 } }; // more cuts than retries
  await assert.rejects(runConvertJob(s, env(store)), (e: Error & { code?: string }) => e.code === 'hub-cut');
  hub.fault = {};
  const pending = await pendingJobs(store);
  assert.deepEqual(pending.map((j) => [j.key, j.spec, j.error?.code]), [[jobKey(s), s, 'hub-cut']]);
  assert.equal((await listStoredPacks(store)).filter((p) => p.complete).length, 0, 'nothing half-converted is offered');
  // A reload: the worker finds the job and runs it again from its record.
  const out = await runConvertJob(pending[0]!.spec, env(store));
  assert.ok(hub.hits.some((h) => h.origin === 'cdn' && h.path === 'lavie_base.pt' && /^bytes=[1-9]/.test(h.range ?? '')), 'the download resumed with Range');
  await assertEqualPacks(store, out.key, 'fp16', 'base');
  assert.deepEqual(await pendingJobs(store), []);
});

test('hub job: cancel during the download keeps the job to resume; discard forgets it', async () => {
  const store = memoryStore();
  const s = spec('int8', { stages: 'base' });
  const ac = new AbortController();
  await assert.rejects(runConvertJob(s, env(store), { signal: ac.signal, onProgress: (p) => { if (p.phase === 'download' && p.done > 0) ac.abort(); } }), (e: Error & { code?: string }) => e.code === 'cancelled');
  assert.deepEqual((await pendingJobs(store)).map((j) => [j.key, j.cancelled, j.error]), [[jobKey(s), true, undefined]]);
  await discardJob(store, jobKey(s));
  assert.deepEqual(await pendingJobs(store), []);
});

test('hub job: a conversion stopped after some networks resumes after them (they are not converted again) into the same pack', async () => {
  const store = memoryStore();
  const s = spec('fp16', { stages: 'base+interp' });
  const ac = new AbortController();
  // Stopped (as by Cancel; a reload stops the worker at the same points) once the VAE decoder starts.
  await assert.rejects(runConvertJob(s, env(store), { signal: ac.signal, onProgress: (p) => { if (p.item === 'VAE decoder') ac.abort(); } }), (e: Error & { code?: string }) => e.code === 'cancelled');
  const [job] = await pendingJobs(store);
  assert.deepEqual(job?.kept, ['text encoder', 'base UNet']);
  assert.equal((await listStoredPacks(store)).filter((p) => p.complete).length, 0, 'nothing half-converted is offered');
  hub.hits.length = 0;
  const seen: ConvertProgress[] = [];
  const out = await runConvertJob(job!.spec, env(store), { onProgress: (p) => seen.push(p) });
  const items = new Set(seen.filter((p) => p.phase === 'convert').map((p) => p.item).filter(Boolean));
  assert.deepEqual([...items], ['VAE decoder', 'VAE encoder', 'interpolation UNet'], 'only the networks not yet converted are built');
  assert.deepEqual(seen.find((p) => p.phase === 'convert')?.kept, ['text encoder', 'base UNet']);
  assert.deepEqual(hub.hits.filter((h) => h.origin === 'cdn'), [], 'downloads are not fetched again');
  await assertEqualPacks(store, out.key, 'fp16', 'base+interp');
  // Nothing of the interrupted run is left besides the pack's own files.
  const packShas = new Set(packFiles(parseManifest(await store.readJson(out.key, 'manifest'))).map((f) => f.sha256));
  assert.deepEqual((await store.files(out.key)).filter((f) => !packShas.has(f.sha256)), []);
});

test('hub job: 404, wrong bytes, gated, renamed files, a file holding another network, storage full: typed errors, no pack', async () => {
  const run = async (s: ConvertJobSpec, extra: Partial<ConvertEnv> = {}) => {
    const store = memoryStore();
    const e = await runConvertJob(s, env(store, extra)).then(() => null, (x: Error & { code?: string; reason?: string }) => x);
    assert.ok(e, 'the job should fail');
    assert.equal((await listStoredPacks(store)).filter((p) => p.complete).length, 0);
    assert.equal(await store.readJson(jobKey(s), 'manifest'), null);
    return `${e.code}${e.reason ? `/${e.reason}` : ''}: ${e.message}`;
  };
  const base = spec('fp16', { stages: 'base' });
  hub.fault = { status: { match: /lavie_base\.pt/, code: 404 } };
  assert.match(await run(base), /^hub-not-found: .*lavie_base\.pt/);
  hub.fault = { corrupt: /lavie_base\.pt/ };
  assert.match(await run(base), /^hub-corrupt: .*do not match the published checksum/);
  hub.fault = { gated: new Set(['YaohuiW/LaVie']) };
  assert.match(await run(base), /^hub-gated: YaohuiW\/LaVie@main: access refused \(HTTP 401\)/);
  hub.fault = {};
  assert.match(await run({ ...base, hub: { endpoint: hub.endpoint, revisions: { lavie: 'renamed' } } }), /^hub-not-found: .*YaohuiW\/LaVie: lavie_base\.pt/);
  assert.match(await run({ ...base, hub: { endpoint: hub.endpoint, revisions: { lavie: 'swapped' } } }), /^checkpoint-invalid\/(wrong-shape|missing-key|unexpected-key): YaohuiW\/LaVie@swapped\/lavie_base\.pt/);
  assert.match(await run(base, { estimate: async () => ({ usage: 0, quota: 1000 }) }), /^storage-full: This choice needs/);
});

test('local files (picked .pt files and SD folders) convert through the same job into a pack equal to the Node conversion', async () => {
  const store = memoryStore();
  // As a browser gives them: the .pt files picked by name, the SD folder picked with its name first.
  const picked = (m: Map<string, Uint8Array>, dir = '') => [...m].map(([p, d]) => ({ path: dir ? `${dir}/${p}` : p, file: new Blob([d as BlobPart]) }));
  const s: ConvertJobSpec = { source: 'local', stages: 'base+interp', precisions: same('int4'), latent, name: 'same name' };
  const out = await runConvertJob(s, env(store), { files: [...picked(lavie), ...picked(folderFiles(files.sd14), 'stable-diffusion-v1-4')] });
  await assertEqualPacks(store, out.key, 'int4', 'base+interp');
});
