// Personalization (SD-1.x LoRAs and fine-tuned checkpoints on LaVie's spatial layers): merged
// weights against the fixtures' merged.safetensors, the layouts (kohya by diffusers or LDM names,
// PEFT, LDM single file → diffusers names, bitwise), and every refusal as a typed error.
// The network outputs are checked through the fixture CLI in parity.test.ts.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { CheckpointError, type CheckpointErrorCode } from '../../src/convert/errors.ts';
import type { UNet3DConfig } from '../../src/convert/graphs/unet3d.ts';
import { readSafetensorsFile } from '../../src/convert/cli/node-io.ts';
import { bufferSource } from '../../src/convert/io/bytes.ts';
import { encodeSafetensors, readSafetensors as openSafetensors } from '../../src/convert/io/safetensors.ts';
import { applyCheckpoint, readPersonalFile } from '../../src/convert/personalize/checkpoint-merge.ts';
import { applyLoras, type LoraInput } from '../../src/convert/personalize/lora-merge.ts';
import { isTemporalKey, unetKeyToLdm } from '../../src/convert/personalize/sd-layout.ts';
import { tensorFromArray, type StateDict, type TensorRef } from '../../src/convert/tensor.ts';
import { fixtureDir, maxAbsDiff } from '../helpers/fixtures.ts';

const dir = (n: string) => fixtureDir(n);
const readConfig = <C>(n: string): C => JSON.parse(readFileSync(join(dir(n), 'config.json'), 'utf8')) as C;

const unetCfg = readConfig<UNet3DConfig & { _merge: { files: { file: string; multiplier: number }[] } }>('lora_unet');
const lavieUnet = () => readSafetensorsFile(join(dir('base_unet'), 'weights.safetensors'));
const clipText = () => readSafetensorsFile(join(dir('clip_text'), 'weights.safetensors'));
const fixtureLoras = (): LoraInput[] => unetCfg._merge.files.map((f) => ({ file: f.file, sd: readSafetensorsFile(join(dir('lora_unet'), f.file)), multiplier: f.multiplier }));
const unetTargets = (unet: StateDict) => ({ unet, unetKeys: unet.keys(), unetConfig: unetCfg });

function assertClose(got: Float32Array, ref: Float32Array, what: string, rel = 1e-6): void {
  const { diff, refMax } = maxAbsDiff(got, ref);
  assert.ok(diff <= rel * Math.max(1, refMax), `${what}: max |diff| ${diff}`);
}

function expectCode(fn: () => unknown, code: CheckpointErrorCode, re?: RegExp): CheckpointError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof CheckpointError, `expected CheckpointError, got ${e}`);
    assert.equal(e.reason, code, e.message);
    if (re) assert.match(e.message, re);
    return e;
  }
  assert.fail(`expected CheckpointError ${code}`);
}

const f32 = (shape: number[], fill = (i: number) => Math.sin(i) * 0.1): TensorRef => tensorFromArray(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => fill(i)), shape);

test('kohya + PEFT LoRAs on the UNet: merged weights match the fixture, temporal and untouched weights are bitwise the same', () => {
  const unet = lavieUnet();
  const { unet: merged, reports, changed } = applyLoras(unetTargets(unet), fixtureLoras());
  assert.deepEqual(reports.map((r) => [r.format, r.unet, r.text]), [['kohya', 26, 0], ['peft', 15, 0]]);
  assert.equal(changed.size, 41);
  const ref = readSafetensorsFile(join(dir('lora_unet'), 'merged.safetensors'));
  for (const [k, t] of ref) assertClose(merged.get(k)!.read(), t.read(), k);
  for (const [k, t] of unet) {
    if (changed.has(`unet:${k}`)) continue;
    assert.equal(merged.get(k), t, `${k} must be the untouched tensor`);
  }
  assert.ok([...changed].every((k) => !isTemporalKey(k)));
});

test('kohya names in LDM form (input_blocks…) reach the same layers as diffusers names', () => {
  const unet = lavieUnet();
  const kohya = readSafetensorsFile(join(dir('lora_unet'), 'lora.safetensors'));
  const renamed: StateDict = new Map();
  for (const [k, t] of kohya) {
    const [mod, ...rest] = k.split('.');
    const key = [...unet.keys()].find((u) => `lora_unet_${u.replace(/\.weight$/, '').replace(/\./g, '_')}` === mod)!;
    const ldm = unetKeyToLdm(key, unetCfg)!.replace(/\.weight$/, '');
    renamed.set([`lora_unet_${ldm.replace(/\./g, '_')}`, ...rest].join('.'), t);
  }
  const a = applyLoras(unetTargets(unet), [{ file: 'kohya', sd: kohya, multiplier: 0.8 }]);
  const b = applyLoras(unetTargets(unet), [{ file: 'ldm', sd: renamed, multiplier: 0.8 }]);
  assert.deepEqual([...b.changed].sort(), [...a.changed].sort());
  for (const k of a.changed) assert.deepEqual(b.unet.get(k.slice(5))!.read(), a.unet.get(k.slice(5))!.read());
});

test('several LoRAs on one weight add up; multiplier 0 leaves the weight as it was', () => {
  const unet = lavieUnet();
  const [kohya] = fixtureLoras();
  const key = 'down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_q.weight';
  const once = applyLoras(unetTargets(unet), [{ ...kohya!, multiplier: 1.6 }]).unet.get(key)!.read();
  const twice = applyLoras(unetTargets(unet), [{ ...kohya!, multiplier: 0.8 }, { ...kohya!, multiplier: 0.8 }]).unet.get(key)!.read();
  assertClose(twice, once, 'two halves vs one whole');
  assert.deepEqual(applyLoras(unetTargets(unet), [{ ...kohya!, multiplier: 0 }]).unet.get(key)!.read(), unet.get(key)!.read());
});

test('kohya text-encoder LoRA: merged weights match the fixture', () => {
  const text = clipText();
  const meta = readConfig<{ _merge: { file: string; multiplier: number } }>('lora_clip_text');
  const sd = readSafetensorsFile(join(dir('lora_clip_text'), meta._merge.file));
  const { text: merged, reports } = applyLoras({ unet: new Map(), unetKeys: [], unetConfig: unetCfg, text, textKeys: text.keys() }, [{ file: 'te', sd, multiplier: meta._merge.multiplier }]);
  assert.equal(reports[0]!.text, 11);
  const ref = readSafetensorsFile(join(dir('lora_clip_text'), 'merged.safetensors'));
  assert.ok(ref.size > 0);
  for (const [k, t] of ref) assertClose(merged!.get(k)!.read(), t.read(), k);
});

test('LDM single-file checkpoint: UNet → LaVie names; VAE and text encoder convert back to the SD files bitwise', () => {
  const unet = lavieUnet();
  const vae = readSafetensorsFile(join(dir('sd_vae'), 'weights.safetensors'));
  const text = clipText();
  const file = join(dir('dreambooth_unet'), 'personal.safetensors');
  const p = readPersonalFile(readSafetensorsFile(file), file, { unetKeys: unet.keys(), unetConfig: unetCfg, vaeKeys: vae.keys(), textKeys: text.keys() });
  assert.equal(p.unet.size, 440);
  for (const [k, t] of vae) {
    assert.ok(p.vae!.has(k), `VAE ${k}`);
    assert.deepEqual(p.vae!.get(k)!.shape, t.shape, k);
    assert.deepEqual(p.vae!.get(k)!.read(), t.read(), k);
  }
  for (const [k, t] of text) if (!k.endsWith('position_ids')) assert.deepEqual(p.text!.get(k)!.read(), t.read(), k);
});

test('DreamBooth replace / add-difference: merged weights match the fixture; temporal weights stay LaVie\'s', () => {
  const unet = lavieUnet();
  const file = join(dir('dreambooth_unet'), 'personal.safetensors');
  const personal = readPersonalFile(readSafetensorsFile(file), file, { unetKeys: unet.keys(), unetConfig: unetCfg });
  const baseFile = join(dir('dreambooth_unet'), 'sd_base/unet/diffusion_pytorch_model.safetensors');
  const sdBase = { sd: readSafetensorsFile(baseFile), file: baseFile };
  const ref = readSafetensorsFile(join(dir('dreambooth_unet'), 'merged.safetensors'));
  for (const mode of ['replace', 'add-difference'] as const) {
    const out = applyCheckpoint({ unet }, personal, file, mode, sdBase);
    assert.equal(out.changed.size, 440);
    const prefix = mode === 'replace' ? 'replace.' : 'add_difference.';
    let n = 0;
    for (const [k, t] of ref) if (k.startsWith(prefix)) { assertClose(out.unet.get(k.slice(prefix.length))!.read(), t.read(), k); n++; }
    assert.ok(n > 0);
    for (const [k, t] of unet) if (isTemporalKey(k)) assert.equal(out.unet.get(k), t);
  }
});

// ---- refusals -----------------------------------------------------------------------------

const target = () => {
  const unet = lavieUnet();
  return unetTargets(unet);
};
const toQ = 'down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_q';
const kohyaQ = `lora_unet_${toQ.replace(/\./g, '_')}`;
const lora = (entries: Record<string, TensorRef>, multiplier = 1): LoraInput[] => [{ file: 'x.safetensors', sd: new Map(Object.entries(entries)), multiplier }];

test('unmatched LoRA modules: a typed error listing them, or skipped and counted when asked', () => {
  const good = { [`${kohyaQ}.lora_down.weight`]: f32([4, 32]), [`${kohyaQ}.lora_up.weight`]: f32([32, 4]) };
  const temporal = 'lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn_temp_to_q';
  const entries = { ...good, [`${temporal}.lora_down.weight`]: f32([4, 32]), [`${temporal}.lora_up.weight`]: f32([32, 4]), 'lora_unet_no_such_layer.lora_down.weight': f32([4, 32]), 'lora_unet_no_such_layer.lora_up.weight': f32([32, 4]) };
  const e = expectCode(() => applyLoras(target(), lora(entries)), 'unmatched-key', /2 LoRA module\(s\) match no SD-1\.x spatial layer/);
  assert.deepEqual([...e.keys!].sort(), [temporal, 'lora_unet_no_such_layer']);
  const skipped = applyLoras(target(), lora(entries), { unmatched: 'skip' });
  assert.equal(skipped.reports[0]!.skipped.length, 2);
  assert.equal(skipped.reports[0]!.unet, 1);
});

test('wrong shapes, NaN/Inf, missing halves and LyCORIS variants are refused', () => {
  expectCode(() => applyLoras(target(), lora({ [`${kohyaQ}.lora_down.weight`]: f32([4, 33]), [`${kohyaQ}.lora_up.weight`]: f32([32, 4]) })), 'wrong-shape', /reads 33 input features/);
  expectCode(() => applyLoras(target(), lora({ [`${kohyaQ}.lora_down.weight`]: f32([4, 32]), [`${kohyaQ}.lora_up.weight`]: f32([32, 8]) })), 'wrong-shape', /rank/);
  expectCode(() => applyLoras(target(), lora({ [`${kohyaQ}.lora_down.weight`]: f32([4, 32], (i) => (i === 7 ? NaN : 0)), [`${kohyaQ}.lora_up.weight`]: f32([32, 4]) })), 'non-finite', /NaN/);
  expectCode(() => applyLoras(target(), lora({ [`${kohyaQ}.lora_down.weight`]: f32([4, 32]), [`${kohyaQ}.lora_up.weight`]: f32([32, 4], (i) => (i ? 0 : Infinity)) })), 'non-finite');
  expectCode(() => applyLoras(target(), lora({ [`${kohyaQ}.lora_down.weight`]: f32([4, 32]) })), 'bad-format', /no up matrix/);
  expectCode(() => applyLoras(target(), lora({ [`${kohyaQ}.hada_w1_a`]: f32([4, 32]), [`${kohyaQ}.hada_w1_b`]: f32([4, 32]) })), 'unknown-layout', /LyCORIS/);
});

test('SDXL and SD-2 LoRAs are named as such', () => {
  expectCode(() => applyLoras(target(), lora({ 'lora_te1_text_model_encoder_layers_0_mlp_fc1.lora_down.weight': f32([4, 768]), 'lora_te1_text_model_encoder_layers_0_mlp_fc1.lora_up.weight': f32([3072, 4]) })), 'wrong-base-model', /SDXL/);
  const k2 = 'lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn2_to_k';
  expectCode(() => applyLoras(target(), lora({ [`${k2}.lora_down.weight`]: f32([4, 1024]), [`${k2}.lora_up.weight`]: f32([32, 4]) })), 'wrong-base-model', /SD-2\.x/);
  const xl = 'lora_unet_down_blocks_1_attentions_0_transformer_blocks_1_attn1_to_q';
  expectCode(() => applyLoras(target(), lora({ [`${xl}.lora_down.weight`]: f32([4, 640]), [`${xl}.lora_up.weight`]: f32([640, 4]) })), 'unmatched-key', /SDXL/);
});

test('a file that is not a LoRA, or a LoRA given as a checkpoint, says what it is', () => {
  const ckpt = join(dir('dreambooth_unet'), 'personal.safetensors');
  expectCode(() => applyLoras(target(), [{ file: ckpt, sd: readSafetensorsFile(ckpt), multiplier: 1 }]), 'unknown-layout', /full Stable Diffusion checkpoint.*--personalize/);
  expectCode(() => applyLoras(target(), lora({ 'foo.bar': f32([2]) })), 'unknown-layout', /not a LoRA/);
  const t = target();
  const loraFile = join(dir('lora_unet'), 'lora.safetensors');
  expectCode(() => readPersonalFile(readSafetensorsFile(loraFile), loraFile, { unetKeys: t.unetKeys, unetConfig: unetCfg }), 'unknown-layout', /--lora/);
  expectCode(() => readPersonalFile(new Map([['foo.bar', f32([2])]]), 'x.ckpt', { unetKeys: t.unetKeys, unetConfig: unetCfg }), 'unknown-layout');
});

test('SD-2 / SDXL checkpoints, wrong shapes, NaN and stray keys in a checkpoint are refused', () => {
  const unet = lavieUnet();
  const layout = { unetKeys: [...unet.keys()], unetConfig: unetCfg };
  expectCode(() => readPersonalFile(new Map([['cond_stage_model.model.token_embedding.weight', f32([2])], ['model.diffusion_model.out.2.bias', f32([4])]]), 'v2.ckpt', layout), 'wrong-base-model', /SD-2/);
  expectCode(() => readPersonalFile(new Map([['conditioner.embedders.0.transformer.x', f32([2])]]), 'xl.safetensors', layout), 'wrong-base-model', /SDXL/);
  const file = join(dir('dreambooth_unet'), 'personal.safetensors');
  const sd = readSafetensorsFile(file);
  const stray = new Map(sd).set('model.diffusion_model.input_blocks.99.0.weight', f32([2]));
  expectCode(() => readPersonalFile(stray, file, layout), 'unexpected-key', /input_blocks\.99/);
  const personal = readPersonalFile(sd, file, layout);
  const toK = 'down_blocks.0.attentions.0.transformer_blocks.0.attn2.to_k.weight';
  const wide = { unet: new Map(personal.unet).set(toK, f32([32, 1024])) };
  expectCode(() => applyCheckpoint({ unet }, wide, file, 'replace'), 'wrong-base-model', /SD-2\.x/);
  const nan = { unet: new Map(personal.unet).set(toK, f32([32, 32], () => NaN)) };
  const out = applyCheckpoint({ unet }, nan, file, 'replace');
  expectCode(() => out.unet.get(toK)!.read(), 'non-finite');
  const missing = { unet: new Map(personal.unet) };
  missing.unet.delete(toK);
  expectCode(() => applyCheckpoint({ unet }, missing, file, 'replace'), 'missing-key', /attn2\.to_k/);
  expectCode(() => applyCheckpoint({ unet }, personal, file, 'add-difference'), 'missing-key', /add-difference needs/);
});

test('a truncated LoRA file is refused when opened', () => {
  const bytes = encodeSafetensors({ [`${kohyaQ}.lora_down.weight`]: { dtype: 'float32', shape: [4, 32], data: new Float32Array(128) }, [`${kohyaQ}.lora_up.weight`]: { dtype: 'float32', shape: [32, 4], data: new Float32Array(128) } });
  expectCode(() => openSafetensors(bufferSource(bytes.subarray(0, bytes.length - 100)), 'cut.safetensors'), 'truncated');
});

// ---- input forms: .ckpt through the restricted unpickler, diffusers folders ------------------

test('a .ckpt (torch zip, {"state_dict": …}) and a diffusers folder give the same merged weights as the safetensors file', async () => {
  const { mkdtempSync, mkdirSync, cpSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { writeTorchCheckpointFile, nodeFolder } = await import('../../src/convert/cli/node-io.ts');
  const { personalizeSpec } = await import('../../src/convert/official.ts');
  const { personalize } = await import('../../src/convert/personalize/apply.ts');
  const tmp = mkdtempSync(join(tmpdir(), 'personalize-'));
  const file = join(dir('dreambooth_unet'), 'personal.safetensors');
  const personal = readSafetensorsFile(file);
  writeTorchCheckpointFile(join(tmp, 'personal.ckpt'), personal, { wrap: 'state_dict' });
  // A diffusers folder whose UNet is the SD base: replace must then equal the SD base on every spatial key.
  mkdirSync(join(tmp, 'folder/unet'), { recursive: true });
  cpSync(join(dir('dreambooth_unet'), 'sd_base/unet/diffusion_pytorch_model.safetensors'), join(tmp, 'folder/unet/diffusion_pytorch_model.safetensors'));
  const sd14 = nodeFolder(join(dir('dreambooth_unet'), 'sd_base'));
  const targets = { unet: lavieUnet(), unetConfig: unetCfg, text: clipText(), vae: readSafetensorsFile(join(dir('sd_vae'), 'weights.safetensors')) };
  const viaFile = personalize(targets, await personalizeSpec({ checkpoint: { source: { folder: nodeFolder(dir('dreambooth_unet')), path: 'personal.safetensors' }, mode: 'add-difference' } }, sd14));
  const viaCkpt = personalize(targets, await personalizeSpec({ checkpoint: { source: { folder: nodeFolder(tmp), path: 'personal.ckpt' }, mode: 'add-difference' } }, sd14));
  assert.equal(viaCkpt.changed.size, viaFile.changed.size);
  for (const k of viaFile.changed) {
    const [part, key] = [k.slice(0, k.indexOf(':')), k.slice(k.indexOf(':') + 1)] as ['unet' | 'text' | 'vae', string];
    assert.deepEqual(viaCkpt[part]!.get(key)!.read(), viaFile[part]!.get(key)!.read(), k);
  }
  const viaFolder = personalize(targets, await personalizeSpec({ checkpoint: { source: nodeFolder(join(tmp, 'folder')), mode: 'replace' } }, sd14));
  assert.equal(viaFolder.changed.size, 440);
  const sdBase = readSafetensorsFile(join(tmp, 'folder/unet/diffusion_pytorch_model.safetensors'));
  for (const [k, t] of sdBase) assert.deepEqual(viaFolder.unet.get(k)!.read(), t.read(), k);
  assert.deepEqual(viaFolder.record, { loras: [], checkpoint: { name: 'folder', mode: 'replace' } });
});

test('storedValue (what a pack of each precision holds) is within half a step of W and stable when stored again', async () => {
  const { storedValue } = await import('../../src/convert/personalize/stored-value.ts');
  const w = lavieUnet().get('down_blocks.0.attentions.0.transformer_blocks.0.ff.net.0.proj.weight')!;
  const conv = lavieUnet().get('down_blocks.0.resnets.0.conv1.weight')!;
  for (const t of [w, conv]) {
    const x = t.read();
    for (const p of ['fp16', 'int8', 'int4'] as const) {
      const s = storedValue(x, t.shape, p);
      const absmax = x.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
      const step = p === 'fp16' ? absmax * 2 ** -10 : p === 'int4' && t.shape.length === 2 ? absmax / 7 : absmax / 127;
      assert.ok(maxAbsDiff(s, x).diff <= step / 2 + 1e-7, `${p} [${t.shape}]`);
      assertClose(storedValue(s, t.shape, p), s, `${p} [${t.shape}] stored twice`, 1e-6);
    }
  }
});
