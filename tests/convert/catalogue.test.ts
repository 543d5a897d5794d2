// The "LaVie (official weights)" catalogue: which files each choice of stages downloads (the same
// preference as the converter), what is missing, and the sizes shown before anything is fetched.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { STAGE_CHOICES, choiceSizes, planDownload } from '../../src/convert/catalogue.ts';
import type { HubFile } from '../../src/packs/download/hub.ts';

const f = (path: string, size: number): HubFile => ({ path, size, oid: 'x', ...(size > 1e6 ? { sha256: 'a'.repeat(64) } : {}) });
// Listings shaped like the real repos (sizes rounded).
const listings = {
  lavie: [f('lavie_base.pt', 3.64e9), f('lavie_interpolation.pt', 3.64e9), f('lavie_vsr.pt', 2.76e9), f('README.md', 2000)],
  sd14: [f('unet/config.json', 700), f('unet/diffusion_pytorch_model.bin', 3.44e9), f('vae/config.json', 550), f('vae/diffusion_pytorch_model.bin', 3.35e8), f('vae/diffusion_pytorch_model.safetensors', 3.35e8), f('text_encoder/config.json', 600), f('text_encoder/pytorch_model.bin', 4.92e8), f('tokenizer/vocab.json', 1.06e6), f('tokenizer/merges.txt', 5.25e5), f('tokenizer/tokenizer_config.json', 800), f('tokenizer/special_tokens_map.json', 470), f('safety_checker/pytorch_model.bin', 1.22e9)],
  x4: [f('vae/config.json', 600), f('vae/diffusion_pytorch_model.safetensors', 2.2e8), f('text_encoder/config.json', 600), f('text_encoder/model.safetensors', 1.36e9), f('tokenizer/vocab.json', 1.06e6), f('tokenizer/merges.txt', 5.25e5), f('tokenizer/tokenizer_config.json', 800)],
};

test('each choice downloads only what the converter reads (safetensors before .bin; no UNet or safety-checker weights of SD)', () => {
  const all = planDownload(STAGE_CHOICES.find((c) => c.id === 'base+interp+vsr')!.stages, listings);
  assert.deepEqual(all.missing, []);
  const paths = all.files.map((p) => `${p.repo}:${p.file.path}`);
  assert.ok(paths.includes('sd14:vae/diffusion_pytorch_model.safetensors') && !paths.includes('sd14:vae/diffusion_pytorch_model.bin'));
  assert.ok(paths.includes('sd14:text_encoder/pytorch_model.bin'));
  assert.ok(!paths.some((p) => /unet\/diffusion|safety_checker|README/.test(p)));
  const base = planDownload(STAGE_CHOICES[0]!.stages, listings);
  assert.deepEqual(base.files.filter((p) => p.repo === 'lavie').map((p) => p.file.path), ['lavie_base.pt']);
  assert.ok(!base.files.some((p) => p.repo === 'x4'));
});

test('a listing without a required file is reported by name before anything is downloaded', () => {
  const plan = planDownload({ interp: false, vsr: true }, { ...listings, x4: listings.x4.filter((x) => !x.path.startsWith('text_encoder/model')) });
  assert.deepEqual(plan.missing, ['stabilityai/stable-diffusion-x4-upscaler: text_encoder/model.safetensors or text_encoder/pytorch_model.bin']);
});

test('sizes: download is the sum of the listed files; the stored pack shrinks with the UNet precision', () => {
  const plan = planDownload({ interp: true, vsr: true }, listings);
  const fp16 = choiceSizes(plan, { unet: 'fp16', vae: 'fp32', text: 'fp32' });
  assert.equal(fp16.download, plan.files.reduce((s, p) => s + p.file.size, 0));
  const int4 = choiceSizes(plan, { unet: 'int4', vae: 'fp32', text: 'fp32' });
  const fp32 = choiceSizes(plan, { unet: 'fp32', vae: 'fp32', text: 'fp32' });
  assert.ok(int4.stored < fp16.stored && fp16.stored < fp32.stored);
  // Three UNets at ~2 bytes a parameter ≈ half their fp32 checkpoints.
  assert.ok(Math.abs(fp32.stored - fp16.stored - (3.64e9 * 2 + 2.76e9) / 2) < 0.01 * fp16.stored);
});
