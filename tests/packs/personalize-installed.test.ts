// Personalizing an installed pack (browser path, here on the in-memory store): the weights equal
// the converter's `--lora` conversion (byte for byte at fp32, within the quantization step at int8
// and int4), only the changed files are stored for the new pack (the rest are the base's files),
// and deleting frees exactly the personalized pack's own files (mark-and-sweep over manifests).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { PersonalizeInputs } from '../../src/convert/official.ts';
import { writeTinyPack } from '../../src/convert/cli/make-tiny-pack.ts';
import { LaVieEngine } from '../../src/engine/engine.ts';
import { createNodeRuntime } from '../../src/engine/runtime/node-runtime.ts';
import type { RgbaFrame } from '../../src/engine/types.ts';
import { readInstalledWeight } from '../../src/convert/personalize/installed.ts';
import type { WeightPrecision } from '../../src/convert/graphs/weights.ts';
import { packFiles, type PackManifest } from '../../src/packs/manifest.ts';
import { personalizeStoredPack } from '../../src/packs/personalize-stored.ts';
import { openStoredPack, storedPackSource } from '../../src/packs/sources/url.ts';
import { memoryStore } from '../../src/packs/storage/memory.ts';
import { deleteStoredPack } from '../../src/packs/storage/shared-files.ts';
import { listStoredPacks } from '../../src/packs/storage/stored-packs.ts';
import { CancelledError } from '../../src/protocol/errors.ts';
import { fixtureDir } from '../helpers/fixtures.ts';
import { convertFixturePack, fixtureFolder, fixtureInputs, installPack, memorySink } from '../support/fixture-pack.ts';
import { TINY_LORA_UNET_WEIGHTS, tinyPackLora } from '../support/tiny-lora.ts';

const read = (dir: string, f: string) => new Uint8Array(readFileSync(join(fixtureDir(dir), f)));
const inputs = fixtureInputs;
const folder = fixtureFolder;
const LORAS = [{ name: 'lora.safetensors', multiplier: 0.8 }, { name: 'lora_te.safetensors', multiplier: 1 }];
const convert = convertFixturePack;
const install = installPack;

const cliLoras: PersonalizeInputs = { loras: LORAS.map((l) => ({ file: { folder, path: l.name }, multiplier: l.multiplier })) };
const uploads = LORAS.map((l) => ({ ...l, bytes: inputs.get(l.name)! }));

for (const precision of ['fp32', 'int8', 'int4'] as WeightPrecision[]) {
  test(`${precision}: a stored pack personalized with two LoRAs equals the converter's --lora pack; unchanged files are shared`, async () => {
    const plain = await convert(precision);
    const cli = await convert(precision, cliLoras);
    const store = memoryStore();
    await install(store, 'base', plain);
    const out = await personalizeStoredPack(store, 'base', { loras: uploads });
    assert.deepEqual(out.manifest.personalization, { loras: LORAS });
    assert.deepEqual(out.lines.map((l) => l.replace(/:.*?:/, ':')), ['lora.safetensors (kohya, ×0.8): 26 UNet and 0 text-encoder weights', 'lora_te.safetensors (kohya, ×1): 0 UNet and 11 text-encoder weights']);

    const mine = new Map(packFiles(out.manifest).map((f) => [f.path, f.sha256]));
    const theirs = new Map(packFiles(cli.manifest).map((f) => [f.path, f.sha256]));
    const base = new Map(packFiles(plain.manifest).map((f) => [f.path, f.sha256]));
    assert.deepEqual([...mine.keys()].sort(), [...theirs.keys()].sort());
    const changedPaths = [...mine].filter(([p, s]) => base.get(p) !== s).map(([p]) => p).sort();
    // Only the UNet and text-encoder graphs / shards holding merged weights change.
    assert.ok(changedPaths.length > 0 && changedPaths.every((p) => /^(unet|text_encoder)\//.test(p)), changedPaths.join());
    assert.deepEqual(changedPaths, [...theirs].filter(([p, s]) => base.get(p) !== s).map(([p]) => p).sort(), 'the same files change as in the --lora conversion');
    // The personalized pack stores only its changed files; the others are the base's, stored once.
    const own = (await store.files(out.key)).map((f) => f.sha256).sort();
    assert.deepEqual(own, [...new Set(changedPaths.map((p) => mine.get(p)!))].sort());
    const source = storedPackSource(out.manifest, store, out.key);
    for (const f of packFiles(out.manifest)) {
      const bytes = await source.read(f.path);
      assert.equal(createHash('sha256').update(bytes).digest('hex'), f.sha256, f.path);
    }

    if (precision === 'fp32') {
      for (const p of changedPaths) assert.equal(mine.get(p), theirs.get(p), `${p} byte-equal to the --lora conversion`);
    } else {
      // Merged into the dequantized stored weight and quantized again: within one quantization step.
      const files = (m: Map<string, Uint8Array>) => ({ read: async (p: string) => m.get(p)!, slice: async (p: string, o: number, l: number) => m.get(p)!.subarray(o, o + l) });
      const personalized = new Map(await Promise.all(packFiles(out.manifest).map(async (f) => [f.path, await source.read(f.path)] as [string, Uint8Array])));
      let worst = 0;
      for (const tagged of ['unet:down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_q.weight', 'text:text_model.encoder.layers.0.mlp.fc1.weight']) {
        const a = await readInstalledWeight(out.manifest, files(personalized), tagged);
        const b = await readInstalledWeight(cli.manifest, files(cli.files), tagged);
        const amax = b.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
        let d = 0;
        for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i]! - b[i]!));
        worst = Math.max(worst, d / amax);
      }
      // At most one quantization step (int8: amax/127 per channel; int4: amax/7 per block of 32),
      // relative to the tensor's amax. Measured: int8 1/127, int4 1/7.
      assert.ok(worst <= (precision === 'int8' ? 1.01 / 127 : 1.01 / 7), `${precision}: relative diff ${worst}`);
      assert.ok(worst > 0 || precision !== 'int4', 'rounding twice differs somewhere');
    }

    // Deleting the personalized pack frees its own files only.
    const baseFiles = (await store.files('base')).map((f) => f.sha256).sort();
    await deleteStoredPack(store, out.key);
    assert.deepEqual(await store.packs(), ['base']);
    assert.deepEqual((await store.files('base')).map((f) => f.sha256).sort(), baseFiles);
  });
}

test('deleting the base of a personalized pack keeps what it needs (hidden) until the personalized one goes too', async () => {
  const plain = await convert('fp32');
  const store = memoryStore();
  await install(store, 'base', plain);
  const out = await personalizeStoredPack(store, 'base', { loras: uploads.slice(1) });
  const listed = await listStoredPacks(store);
  assert.deepEqual(listed.map((p) => [p.key, p.complete, p.base, p.personalization]).sort(), [['base', true, undefined, undefined], [out.key, true, 'base', { loras: [LORAS[1]] }]].sort());
  await deleteStoredPack(store, 'base');
  assert.deepEqual((await listStoredPacks(store)).map((p) => p.key), [out.key], 'the base is no longer listed');
  const needed = new Set(packFiles(out.manifest).map((f) => f.sha256));
  assert.ok((await store.files('base')).every((f) => needed.has(f.sha256)), 'only files the personalized pack uses are kept');
  const source = storedPackSource(out.manifest, store, out.key);
  for (const f of packFiles(out.manifest)) await source.read(f.path); // all still there
  await deleteStoredPack(store, out.key);
  assert.deepEqual(await store.packs(), [], 'swept');
});

test('bad LoRA and cancel leave the stored pack untouched and write nothing', async () => {
  const plain = await convert('fp32');
  const store = memoryStore();
  await install(store, 'base', plain);
  const before = (await store.files('base')).map((f) => f.sha256).sort();
  await assert.rejects(personalizeStoredPack(store, 'base', { loras: [{ name: 'dreambooth.safetensors', bytes: read('dreambooth_unet', 'personal.safetensors'), multiplier: 1 }] }), (e: Error & { code?: string; reason?: string }) => e.code === 'checkpoint-invalid' && e.reason === 'unknown-layout');
  const ac = new AbortController();
  ac.abort();
  await assert.rejects(personalizeStoredPack(store, 'base', { loras: uploads }, { signal: ac.signal }), CancelledError);
  assert.deepEqual(await store.packs(), ['base']);
  assert.deepEqual((await store.files('base')).map((f) => f.sha256).sort(), before);
});

test('the engine runs the personalized tiny demo pack from storage; the LoRA changes the video', async () => {
  const files = new Map<string, Uint8Array>();
  await writeTinyPack(memorySink(files));
  const manifest = JSON.parse(new TextDecoder().decode(files.get('manifest.json')!)) as PackManifest;
  const store = memoryStore();
  await install(store, 'tiny', { manifest, files });
  // A LoRA made for the demo pack's own UNet (the fixtures' fit the official four-level tiny UNet).
  const out = await personalizeStoredPack(store, 'tiny', { loras: [{ name: 'lora.safetensors', bytes: tinyPackLora(), multiplier: 0.8 }] });
  assert.match(out.lines.join('\n'), new RegExp(`: ${TINY_LORA_UNET_WEIGHTS} UNet and 0 text-encoder weights`));
  const rt = createNodeRuntime();
  const frames = async (key: string) => {
    const engine = await LaVieEngine.load(rt, await openStoredPack(store, key));
    const got: RgbaFrame[] = [];
    await engine.generate({ id: key, prompt: 'a red fox', negativePrompt: '', seed: 3, steps: 2, guidanceScale: 7.5, sampler: 'ddim' }, { signal: new AbortController().signal, onProgress: () => {}, onPreview: () => {}, onFrame: (f) => { got.push(f); } });
    return got;
  };
  const base = await frames('tiny');
  const personalized = await frames(out.key);
  assert.equal(personalized.length, base.length);
  assert.notDeepEqual(personalized[0]!.rgba, base[0]!.rgba, 'the merged LoRA changes the frames');
});
