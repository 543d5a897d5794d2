// A fixture folder (config.json, weights.safetensors, inputs.safetensors — the lavie-tiny format)
// for the FULL-SIZE LaVie base UNet (LaVie's real config, 909 M random params, 3.6 GB fp32) at
// LaVie's real call shape (CFG batch 2 × 16 frames × 40×64 latent, 77 text tokens), so the fixture
// CLI can be timed on a real-size network:
//   npm run bench:fullsize-fixture -- <dir> [--latent 40x64]
//   /usr/bin/time -v npm run --silent fixture -- base_unet <dir> <dir>/out.safetensors
// There is no reference output (no PyTorch here): this measures that it runs, its time and memory.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { runCli } from '../src/convert/cli/cli-util.ts';
import { writeSafetensorsFile, writeStateDictSafetensorsFile } from '../src/convert/cli/node-io.ts';
import { LAVIE_BASE_UNET_CONFIG, buildBaseUNet } from '../src/convert/graphs/unet3d.ts';
import { fillNormal, mulberry32, syntheticStateDict } from '../src/convert/synthetic.ts';

const USAGE = `usage: npm run bench:fullsize-fixture -- <dir> [--latent 40x64] [--inputs-only]

Writes a full-size base UNet fixture folder (random weights, LaVie's config; CFG batch 2 × 16 frames)
to <dir>.
  --latent <HxW>            latent size of the inputs (default 40x64, LaVie's; the weights do not depend on it)
  --inputs-only             rewrite inputs.safetensors only (keep config and weights)
  -h, --help                print this help`;

runCli({ usage: USAGE, options: ['latent'], switches: ['inputs-only'], maxPositional: 1 }, async ({ positional: [dirArg], opts }) => {
  if (!dirArg) throw new Error('an output folder is required (see --help)');
  const dir = resolve(dirArg);
  const [h, w] = (opts.latent ?? '40x64').split('x').map(Number);
  if (!h || !w) throw new Error('--latent must look like 40x64');
  mkdirSync(dir, { recursive: true });
  let bytes = 0;
  if (!opts['inputs-only']) {
    writeFileSync(join(dir, 'config.json'), JSON.stringify(LAVIE_BASE_UNET_CONFIG, null, 1));
    bytes = writeStateDictSafetensorsFile(join(dir, 'weights.safetensors'), syntheticStateDict(1, (ctx) => buildBaseUNet(ctx, LAVIE_BASE_UNET_CONFIG, { batch: 2, frames: 16, height: h, width: w })));
  }
  const rand = mulberry32(2);
  const sample = fillNormal(new Float32Array(2 * 4 * 16 * h * w), rand);
  const text = fillNormal(new Float32Array(2 * 77 * LAVIE_BASE_UNET_CONFIG.cross_attention_dim), rand);
  writeSafetensorsFile(join(dir, 'inputs.safetensors'), {
    sample: { dtype: 'float32', shape: [2, 4, 16, h, w], data: sample },
    timestep: { dtype: 'int64', shape: [1], data: BigInt64Array.of(741n) },
    timestep_f32: { dtype: 'float32', shape: [1], data: Float32Array.of(741) },
    encoder_hidden_states: { dtype: 'float32', shape: [2, 77, LAVIE_BASE_UNET_CONFIG.cross_attention_dim], data: text },
  });
  console.log(`full-size base UNet fixture in ${dir}${bytes ? ` (weights ${(bytes / 1e9).toFixed(2)} GB)` : ''}, inputs [2, 4, 16, ${h}, ${w}]`);
});
