// Parity with the official PyTorch code: every network the converter emits, run by the fixture
// CLI's runners, against the fixtures' outputs. The first case runs through `npm run fixture` exactly
// as a user would; the others call the same runner in this process and write the same file (an npm +
// tsx start-up per case would cost more than most of the networks).
// Tolerance (fixtures README): max |diff| ≤ 1e-4 · max(1, max|ref|). The lavie-fullres set runs at
// LaVie's real spatial sizes (GroupNorm groups of up to 1.6 M elements), where reductions that lose
// float32 precision show; ~35 s in all on 2 cores.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, isAbsolute, join } from 'node:path';
import { test } from 'node:test';
import { runNpmCli } from '../helpers/cli.ts';
import { fixtureDir, fullresFixtureDir, maxAbsDiff } from '../helpers/fixtures.ts';
import { readSafetensorsFile, writeSafetensorsFile } from '../../src/convert/cli/node-io.ts';
import { FIXTURE_RUNNERS } from '../../src/convert/fixtures/index.ts';

const VAE_OUTPUTS = ['latent_mean', 'latent_std', 'latent_sample', 'decoded'];
const CASES: [network: string, folder: string, outputs: string[]][] = [
  ['base_unet', 'base_unet', ['out']],
  ['base_transformer3d', 'base_transformer3d', ['out']],
  ['freenoise_transformer3d', 'freenoise_transformer3d', ['out', 'quirk_L26.out']],
  ['freenoise_unet', 'freenoise_unet', ['out', 'out_16frames']],
  ['interp_unet', 'interp_unet', ['out']],
  ['vsr_unet', 'vsr_unet', ['out']],
  ['vsr_transformer3d', 'vsr_transformer3d', ['out']],
  ['sd_vae', 'sd_vae', VAE_OUTPUTS],
  ['vsr_vae', 'vsr_vae', VAE_OUTPUTS],
  ['clip_text', 'clip_text', ['last_hidden_state', 'pooler_output']],
  ['clip_text_x4', 'clip_text_x4', ['last_hidden_state', 'pooler_output']],
  ['sd_vae', fullresFixtureDir('sd_vae_fullres'), VAE_OUTPUTS],
  ['vsr_vae', fullresFixtureDir('vsr_vae_fullres'), VAE_OUTPUTS],
  ['base_unet', fullresFixtureDir('base_unet_fullres'), ['out']],
  // Personalization (SD-1.x LoRAs, a DreamBooth checkpoint) applied by the converter.
  ['lora_unet', 'lora_unet', ['out']],
  ['lora_clip_text', 'lora_clip_text', ['last_hidden_state', 'pooler_output']],
  ['dreambooth_unet', 'dreambooth_unet', ['out_replace', 'out_add_difference']],
];

const tmp = mkdtempSync(join(tmpdir(), 'parity-'));

for (const [i, [network, folder, outputs]] of CASES.entries()) {
  const fullres = isAbsolute(folder);
  test(`${network}${fullres ? ` at full resolution (${basename(folder)})` : ''} matches the official code${i === 0 ? ' (through npm run fixture)' : ''}`, async () => {
    const dir = fullres ? folder : fixtureDir(folder);
    const out = join(tmp, `${basename(dir)}.safetensors`);
    if (i === 0) {
      const r = runNpmCli('fixture', [network, dir, out]);
      assert.equal(r.status, 0, r.stderr);
    } else {
      const result = await (await FIXTURE_RUNNERS[network]!()).run(dir, network);
      assert.equal(result.kind, 'tensors');
      if (result.kind === 'tensors') writeSafetensorsFile(out, result.tensors);
    }
    const got = readSafetensorsFile(out);
    const ref = readSafetensorsFile(join(dir, 'outputs.safetensors'));
    for (const name of outputs) {
      assert.ok(got.has(name), `missing output ${name}`);
      assert.deepEqual(got.get(name)!.shape, ref.get(name)!.shape, `${name} shape`);
      const { diff, refMax } = maxAbsDiff(got.get(name)!.read(), ref.get(name)!.read());
      console.log(`${network}.${name}: max |diff| ${diff.toExponential(2)} (max |ref| ${refMax.toFixed(3)})`);
      assert.ok(diff <= 1e-4 * Math.max(1, refMax), `${network}.${name}: ${diff}`);
    }
  });
}

test('fixture CLI: unknown network and missing folder fail with one line', () => {
  const a = runNpmCli('fixture', ['no_such_net', tmp, join(tmp, 'x')]);
  assert.notEqual(a.status, 0);
  assert.match(a.stderr.trim(), /^error: unknown network "no_such_net"/);
  const b = runNpmCli('fixture', ['base_unet', join(tmp, 'nope'), join(tmp, 'x')]);
  assert.notEqual(b.status, 0);
  assert.equal(b.stderr.trim().split('\n').length, 1, b.stderr);
});
