// Personalizing an installed pack with a fine-tuned SD-1.x checkpoint (browser path, on the in-memory
// store): the result equals the converter's `--personalize FILE --mode …` pack byte for byte (both
// modes at fp32; replace at every precision), `.ckpt` goes through the restricted unpickler, only the rewritten files are the new
// pack's own, and bad files are refused with typed errors leaving the installed pack untouched.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { bufferSource, memoryFolder } from '../../src/convert/io/bytes.ts';
import { encodeSafetensors, readSafetensors, type NamedArray } from '../../src/convert/io/safetensors.ts';
import { writeTorchCheckpoint } from '../../src/convert/io/torch-writer.ts';
import type { PersonalizeMode } from '../../src/packs/manifest.ts';
import type { WeightPrecision } from '../../src/convert/graphs/weights.ts';
import { unetKeyToLdm } from '../../src/convert/personalize/sd-layout.ts';
import type { StateDict } from '../../src/convert/tensor.ts';
import { packFiles } from '../../src/packs/manifest.ts';
import { personalizeStoredPack, type CheckpointUpload } from '../../src/packs/personalize-stored.ts';
import { memoryStore } from '../../src/packs/storage/memory.ts';
import { deleteStoredPack } from '../../src/packs/storage/shared-files.ts';
import { listStoredPacks } from '../../src/packs/storage/stored-packs.ts';
import { CancelledError } from '../../src/protocol/errors.ts';
import { fixtureDir } from '../helpers/fixtures.ts';
import { convertFixturePack, installPack, SD14_UNET } from '../support/fixture-pack.ts';

const read = (dir: string, f: string) => new Uint8Array(readFileSync(join(fixtureDir(dir), f)));
const PERSONAL = read('dreambooth_unet', 'personal.safetensors');
const SD_BASE = read('dreambooth_unet', SD14_UNET);

/** The fixture checkpoint with its tensors changed by `edit` (undefined drops a tensor), as safetensors. */
function edited(edit: (key: string, a: NamedArray) => NamedArray | undefined, extra: Record<string, NamedArray> = {}): Uint8Array {
  const out: Record<string, NamedArray> = {};
  for (const [k, t] of readSafetensors(bufferSource(PERSONAL), 'personal')) {
    const a = edit(k, { dtype: 'float32', shape: t.shape, data: t.read() });
    if (a) out[k] = a;
  }
  return encodeSafetensors({ ...out, ...extra });
}

/** The fixture checkpoint as a torch.save zip `{"state_dict": …}` (.ckpt). */
function asCkpt(bytes: Uint8Array): Uint8Array {
  const chunks: Uint8Array[] = [];
  writeTorchCheckpoint({ write: (c) => chunks.push(c.slice()) }, readSafetensors(bufferSource(bytes), 'personal'), { wrap: 'state_dict' });
  return new Uint8Array(Buffer.concat(chunks));
}

const upload = (name: string, bytes: Uint8Array, mode: PersonalizeMode, sdBase = true): CheckpointUpload => ({
  name, source: bufferSource(bytes), mode, ...(sdBase && mode === 'add-difference' ? { sdBase: { name: 'diffusion_pytorch_model.safetensors', source: bufferSource(SD_BASE) } } : {}),
});

// add-difference at a quantized precision reads W_lavie back from the pack (dequantized), the converter from lavie_base.pt: equal only at fp32.
for (const [mode, file, precision] of [['replace', 'personal.safetensors', 'fp32'], ['add-difference', 'personal.safetensors', 'fp32'], ['add-difference', 'personal.ckpt', 'fp32'], ['replace', 'personal.ckpt', 'fp16'], ['replace', 'personal.safetensors', 'int8'], ['replace', 'personal.safetensors', 'int4']] as [PersonalizeMode, string, WeightPrecision][]) {
  test(`${precision}, ${mode} (${file}): a stored pack personalized in place equals the converter's --personalize pack byte for byte; only rewritten files are its own`, async () => {
    const plain = await convertFixturePack(precision);
    const cli = await convertFixturePack(precision, { checkpoint: { source: { folder: memoryFolder('in', new Map([['personal.safetensors', PERSONAL]])), path: 'personal.safetensors' }, mode } });
    const store = memoryStore();
    await installPack(store, 'base', plain);
    const bytes = file.endsWith('.ckpt') ? asCkpt(PERSONAL) : PERSONAL;
    // Small odd chunks on one case: merged weights straddle chunk boundaries.
    const out = await personalizeStoredPack(store, 'base', { checkpoint: upload(file, bytes, mode) }, file.endsWith('.ckpt') && precision === 'fp32' ? { chunkBytes: 4099 } : {});
    assert.deepEqual(out.manifest.personalization, { loras: [], checkpoint: { name: file, mode } });
    assert.equal(out.manifest.name, `${plain.manifest.name} + personal (${mode})`);
    assert.deepEqual(out.lines, [`${file}: ${mode}, 440 UNet, 36 text-encoder and 180 VAE tensors`]);
    const mine = new Map(packFiles(out.manifest).map((f) => [f.path, f.sha256]));
    const theirs = new Map(packFiles(cli.manifest).map((f) => [f.path, f.sha256]));
    assert.deepEqual([...mine].sort(), [...theirs].sort(), 'every file byte-equal to the --personalize conversion');

    const base = new Map(packFiles(plain.manifest).map((f) => [f.path, f.sha256]));
    const changed = [...mine].filter(([p, s]) => base.get(p) !== s).map(([p]) => p);
    assert.ok(changed.length > 0 && changed.every((p) => /^(unet|text_encoder|vae_decoder|vae_encoder)\//.test(p)), changed.join());
    const own = (await store.files(out.key)).map((f) => f.sha256).sort();
    assert.deepEqual(own, [...new Set(changed.map((p) => mine.get(p)!))].sort(), 'only rewritten files are stored for the new pack');
    assert.ok(packFiles(out.manifest).length > own.length, 'the rest is shared with the base');
    const listed = (await listStoredPacks(store)).find((p) => p.key === out.key);
    assert.deepEqual(listed?.personalization, { loras: [], checkpoint: { name: file, mode } });

    const baseFiles = (await store.files('base')).map((f) => f.sha256).sort();
    await deleteStoredPack(store, out.key);
    assert.deepEqual(await store.packs(), ['base']);
    assert.deepEqual((await store.files('base')).map((f) => f.sha256).sort(), baseFiles);
  });
}

test('add-difference with the SD-1.4 file as an LDM single file (.ckpt, model.diffusion_model.*) equals the diffusers UNet', async () => {
  const cfg = JSON.parse(readFileSync(join(fixtureDir('base_unet'), 'config.json'), 'utf8'));
  const ldm: StateDict = new Map([...readSafetensors(bufferSource(SD_BASE), 'sd base')].map(([k, t]) => [`model.diffusion_model.${unetKeyToLdm(k, cfg)}`, t]));
  const chunks: Uint8Array[] = [];
  writeTorchCheckpoint({ write: (c) => chunks.push(c.slice()) }, ldm, { wrap: 'state_dict' });
  const plain = await convertFixturePack('fp32');
  const store = memoryStore();
  await installPack(store, 'base', plain);
  const a = await personalizeStoredPack(store, 'base', { checkpoint: upload('personal.safetensors', PERSONAL, 'add-difference') });
  const b = await personalizeStoredPack(store, 'base', { checkpoint: { ...upload('personal.safetensors', PERSONAL, 'add-difference', false), sdBase: { name: 'sd-v1-4.ckpt', source: bufferSource(new Uint8Array(Buffer.concat(chunks))) } } });
  assert.notEqual(a.key, b.key);
  assert.deepEqual(packFiles(b.manifest).map((f) => f.sha256), packFiles(a.manifest).map((f) => f.sha256));
});

const BAD: [string, () => Uint8Array, string, RegExp][] = [
  ['wrong shape', () => edited((k, a) => (k === 'model.diffusion_model.input_blocks.0.0.bias' ? { ...a, shape: [a.data.length / 2, 2] } : a)), 'wrong-shape', /input_blocks\.0\.0\.bias|conv_in\.bias/],
  ['NaN', () => edited((k, a) => (k === 'model.diffusion_model.out.2.weight' ? { ...a, data: Float32Array.from(a.data as Float32Array, (v, i) => (i === 3 ? NaN : v)) } : a)), 'non-finite', /NaN/],
  ['unknown layout', () => encodeSafetensors({ 'foo.bar': { dtype: 'float32', shape: [2], data: new Float32Array(2) } }), 'unknown-layout', /neither an SD-1\.x single-file checkpoint/],
  ['truncated', () => PERSONAL.subarray(0, PERSONAL.byteLength - 1000), 'truncated', /lies outside the file/],
  ['SD-2.x', () => edited((_k, a) => a, { 'cond_stage_model.model.token_embedding.weight': { dtype: 'float32', shape: [4, 4], data: new Float32Array(16) } }), 'wrong-base-model', /SD-2\.x/],
  ['SDXL', () => edited((_k, a) => a, { 'conditioner.embedders.0.transformer.text_model.embeddings.position_ids': { dtype: 'float32', shape: [1], data: new Float32Array(1) } }), 'wrong-base-model', /SDXL/],
  ['missing tensor', () => edited((k, a) => (k === 'model.diffusion_model.middle_block.1.proj_in.weight' ? undefined : a)), 'missing-key', /mid_block\.attentions\.0\.proj_in\.weight/],
];

for (const [what, make, reason, message] of BAD) {
  test(`a bad checkpoint (${what}) is refused with reason ${reason}; the installed pack is untouched`, async () => {
    const plain = await convertFixturePack('fp32');
    const store = memoryStore();
    await installPack(store, 'base', plain);
    const before = (await store.files('base')).map((f) => f.sha256).sort();
    await assert.rejects(personalizeStoredPack(store, 'base', { checkpoint: upload(`bad-${what}.safetensors`, make(), 'replace') }), (e: Error & { code?: string; reason?: string }) => {
      assert.equal(e.code, 'checkpoint-invalid', e.message);
      assert.equal(e.reason, reason, e.message);
      assert.match(e.message, new RegExp(`^bad-${what}\\.safetensors: `));
      assert.match(e.message, message);
      return true;
    });
    assert.deepEqual(await store.packs(), ['base']);
    assert.deepEqual((await store.files('base')).map((f) => f.sha256).sort(), before);
  });
}

test('add-difference without the SD-1.4 file, a checkpoint on a personalized pack, and cancel: refused, nothing written', async () => {
  const plain = await convertFixturePack('fp32');
  const store = memoryStore();
  await installPack(store, 'base', plain);
  const before = (await store.files('base')).map((f) => f.sha256).sort();
  await assert.rejects(personalizeStoredPack(store, 'base', { checkpoint: upload('personal.safetensors', PERSONAL, 'add-difference', false) }), (e: Error & { reason?: string }) => e.reason === 'missing-key' && /add-difference needs/.test(e.message));
  const ac = new AbortController();
  ac.abort();
  await assert.rejects(personalizeStoredPack(store, 'base', { checkpoint: upload('personal.safetensors', PERSONAL, 'replace') }, { signal: ac.signal }), CancelledError);
  assert.deepEqual(await store.packs(), ['base']);
  assert.deepEqual((await store.files('base')).map((f) => f.sha256).sort(), before);
  const once = await personalizeStoredPack(store, 'base', { checkpoint: upload('personal.safetensors', PERSONAL, 'replace') });
  await assert.rejects(personalizeStoredPack(store, once.key, { checkpoint: upload('personal.safetensors', PERSONAL, 'replace') }), (e: Error & { reason?: string }) => e.reason === 'wrong-base-model' && /already personalized/.test(e.message));
  assert.deepEqual((await store.packs()).sort(), ['base', once.key].sort());
});

test('cancel after the first rewritten file was stored: only the new pack\'s files go, the installed pack is untouched', async () => {
  const plain = await convertFixturePack('fp32');
  const store = memoryStore();
  await installPack(store, 'base', plain);
  const before = (await store.files('base')).map((f) => f.sha256).sort();
  const ac = new AbortController();
  const phases = new Set<string>();
  await assert.rejects(personalizeStoredPack(store, 'base', { checkpoint: upload('personal.safetensors', PERSONAL, 'add-difference') }, {
    signal: ac.signal,
    onProgress: (p) => { phases.add(p.phase); if (p.phase === 'write') ac.abort(); },
  }), CancelledError);
  assert.deepEqual([...phases].sort(), ['merge', 'read', 'write']);
  assert.deepEqual(await store.packs(), ['base']);
  assert.deepEqual((await store.files('base')).map((f) => f.sha256).sort(), before);
});
