// `npm run convert -- … --personalize FILE --mode M --lora FILE[:m]…` on the tiny fixtures laid out
// like the official downloads (LaVie base weights, an SD-1.x folder, the DreamBooth single file and
// the LoRA files): the pack records what was merged; bad inputs fail with one typed line and leave
// no pack behind.
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseLoraArg } from '../../src/convert/cli/convert.ts';
import { parseArgs } from '../../src/convert/cli/cli-util.ts';
import { runNpmCli } from '../helpers/cli.ts';
import { fixtureDir } from '../helpers/fixtures.ts';

const root = mkdtempSync(join(tmpdir(), 'personalize-cli-'));
const sd14 = join(root, 'sd');
const unetCfg = JSON.parse(readFileSync(join(fixtureDir('base_unet'), 'config.json'), 'utf8'));
for (const d of ['unet', 'vae', 'text_encoder', 'tokenizer']) mkdirSync(join(sd14, d), { recursive: true });
writeFileSync(join(sd14, 'unet/config.json'), JSON.stringify({ ...unetCfg, down_block_types: unetCfg.down_block_types.map((s: string) => s.replace('3D', '2D')), up_block_types: unetCfg.up_block_types.map((s: string) => s.replace('3D', '2D')) }));
cpSync(join(fixtureDir('dreambooth_unet'), 'sd_base/unet/diffusion_pytorch_model.safetensors'), join(sd14, 'unet/diffusion_pytorch_model.safetensors'));
cpSync(join(fixtureDir('sd_vae'), 'config.json'), join(sd14, 'vae/config.json'));
cpSync(join(fixtureDir('sd_vae'), 'weights.safetensors'), join(sd14, 'vae/diffusion_pytorch_model.safetensors'));
cpSync(join(fixtureDir('clip_text'), 'config.json'), join(sd14, 'text_encoder/config.json'));
cpSync(join(fixtureDir('clip_text'), 'weights.safetensors'), join(sd14, 'text_encoder/model.safetensors'));
for (const f of ['vocab.json', 'merges.txt', 'special_tokens_map.json', 'tokenizer_config.json']) cpSync(join(fixtureDir('clip_tokenizer'), f), join(sd14, 'tokenizer', f));
const base = join(fixtureDir('base_unet'), 'weights.safetensors');
const common = ['--base', base, '--sd14', sd14, '--latent', '8x16', '--frames', '4', '--unet-precision', 'int8'];

test('--lora FILE[:m] may repeat; the multiplier defaults to 1', () => {
  const { opts, lists } = parseArgs(['--x', '1', '--lora', 'a.safetensors:0.8', '--lora', 'dir/b.safetensors', '--lora=c:d.safetensors:-1.5e-1'], { usage: '', options: ['x'], repeatable: ['lora'] });
  assert.deepEqual(opts, { x: '1' });
  assert.deepEqual(lists.lora!.map(parseLoraArg), [{ file: 'a.safetensors', multiplier: 0.8 }, { file: 'dir/b.safetensors', multiplier: 1 }, { file: 'c:d.safetensors', multiplier: -0.15 }]);
});

test('convert with a DreamBooth file (add-difference) and three LoRAs: the manifest records them', () => {
  const out = join(root, 'pack');
  const r = runNpmCli('convert', [...common, '--out', out, '--personalize', join(fixtureDir('dreambooth_unet'), 'personal.safetensors'), '--mode', 'add-difference',
    '--lora', `${join(fixtureDir('lora_unet'), 'lora.safetensors')}:0.8`, '--lora', `${join(fixtureDir('lora_unet'), 'lora_peft.safetensors')}:0.5`, '--lora', join(fixtureDir('lora_clip_text'), 'lora.safetensors')]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /personal\.safetensors: add-difference, 440 UNet, 36 text-encoder and 180 VAE tensors/);
  assert.match(r.stdout, /lora\.safetensors \(kohya, ×0\.8\): 26 UNet and 0 text-encoder weights/);
  assert.match(r.stdout, /lora\.safetensors \(kohya, ×1\): 0 UNet and 11 text-encoder weights/);
  const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'));
  assert.deepEqual(manifest.personalization, {
    loras: [{ name: 'lora.safetensors', multiplier: 0.8 }, { name: 'lora_peft.safetensors', multiplier: 0.5 }, { name: 'lora.safetensors', multiplier: 1 }],
    checkpoint: { name: 'personal.safetensors', mode: 'add-difference' },
  });
  assert.equal(manifest.name, 'LaVie base (personalized)');
});

test('bad personalization inputs fail with one typed line and write no pack', () => {
  const cases: [string[], RegExp][] = [
    [['--lora', join(fixtureDir('dreambooth_unet'), 'personal.safetensors')], /^error \[unknown-layout\]: .*full Stable Diffusion checkpoint/],
    [['--personalize', join(fixtureDir('lora_unet'), 'lora.safetensors')], /^error \[unknown-layout\]: .*use it with --lora/],
    [['--personalize', join(fixtureDir('dreambooth_unet'), 'personal.safetensors'), '--mode', 'merge'], /^error: --mode must be one of replace, add-difference/],
    [['--lora', join(root, 'missing.safetensors')], /^error \[bad-format\]: .*no such file/],
  ];
  for (const [extra, re] of cases) {
    const out = join(root, `bad-${Math.random().toString(36).slice(2)}`);
    const r = runNpmCli('convert', [...common, '--out', out, ...extra]);
    assert.notEqual(r.status, 0);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr.trim(), re);
    assert.ok(!existsSync(join(out, 'manifest.json')), 'no pack is left behind');
  }
});
