// Full-size conversion: a synthetic lavie_base.pt with LaVie's real shapes (909 M params, fp32,
// {"ema": …} torch zip, 3.6 GB) and a full-size SD-1.4 folder, converted by `npm run convert`
// in a child process whose wall time and peak RSS (GNU time, %M) are measured.
//   npm run bench:convert-full [-- --precision fp16] [--keep <dir>]
// The inputs are written to a temp folder first (not timed) and deleted afterwards.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { SD14_CLIP_TEXT_CONFIG, buildClipText } from '../src/convert/graphs/clip_text.ts';
import { LAVIE_BASE_UNET_CONFIG, buildBaseUNet } from '../src/convert/graphs/unet3d.ts';
import { SD14_VAE_CONFIG, buildVaeDecoder, buildVaeEncoder } from '../src/convert/graphs/vae.ts';
import { syntheticStateDict } from '../src/convert/synthetic.ts';
import { writeStateDictSafetensorsFile, writeSyntheticTokenizerFolder, writeTorchCheckpointFile } from '../src/convert/cli/node-io.ts';

const arg = (name: string) => { const i = process.argv.indexOf(name); return i > 0 ? process.argv[i + 1] : undefined; };
const precision = arg('--precision') ?? 'fp16';
const root = arg('--keep') ? resolve(arg('--keep')!) : mkdtempSync(join(tmpdir(), 'convert-full-'));

const dirBytes = (d: string): number => readdirSync(d, { withFileTypes: true }).reduce((s, e) => s + (e.isDirectory() ? dirBytes(join(d, e.name)) : statSync(join(d, e.name)).size), 0);

try {
  const t0 = performance.now();
  const sd14 = join(root, 'stable-diffusion-v1-4');
  for (const d of ['vae', 'text_encoder', 'tokenizer']) mkdirSync(join(sd14, d), { recursive: true });
  const vocabSize = writeSyntheticTokenizerFolder(join(sd14, 'tokenizer'));
  writeStateDictSafetensorsFile(join(sd14, 'vae/diffusion_pytorch_model.safetensors'), syntheticStateDict(2, (ctx) => {
    buildVaeDecoder(ctx, SD14_VAE_CONFIG, { batch: 1, height: 40, width: 64 });
    buildVaeEncoder(ctx, SD14_VAE_CONFIG, { batch: 1, height: 320, width: 512 });
  }));
  // The synthetic tokenizer's vocabulary is small; the text encoder is built for it (CLIP-L otherwise).
  const textCfg = { ...SD14_CLIP_TEXT_CONFIG, vocab_size: vocabSize, bos_token_id: vocabSize - 2, eos_token_id: vocabSize - 1, pad_token_id: vocabSize - 1 };
  writeFileSync(join(sd14, 'text_encoder/config.json'), JSON.stringify(textCfg));
  writeStateDictSafetensorsFile(join(sd14, 'text_encoder/model.safetensors'), syntheticStateDict(3, (ctx) => buildClipText(ctx, textCfg, { batch: 1 })));
  const basePt = join(root, 'lavie_base.pt');
  const ptBytes = writeTorchCheckpointFile(basePt, syntheticStateDict(1, (ctx) => buildBaseUNet(ctx, LAVIE_BASE_UNET_CONFIG, { batch: 1, frames: 16, height: 40, width: 64 })), { wrap: 'ema' });
  console.error(`inputs written in ${((performance.now() - t0) / 1000).toFixed(0)} s (lavie_base.pt ${(ptBytes / 1e9).toFixed(2)} GB)`);

  const out = join(root, 'pack');
  const r = spawnSync('/usr/bin/time', ['-f', '%e %M', 'npx', 'tsx', 'src/convert/cli/convert.ts', '--base', basePt, '--sd14', sd14, '--out', out, '--unet-precision', precision], { encoding: 'utf8', maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`convert failed:\n${r.stderr}`);
  const [secs, kb] = r.stderr.trim().split('\n').pop()!.split(' ').map(Number);
  const unetBytes = dirBytes(join(out, 'unet'));
  const result = {
    command: `npm run bench:convert-full -- --precision ${precision}`,
    inputBytes: ptBytes,
    seconds: secs,
    peakRssBytes: kb! * 1024,
    packBytes: dirBytes(out),
    unetBytes,
    unetBytesPerParam: unetBytes / 909_124_356,
  };
  console.log(JSON.stringify(result, null, 1));
  console.log(`| ${precision} | ${(ptBytes / 1e9).toFixed(2)} GB | ${secs!.toFixed(0)} s | ${(result.peakRssBytes / 2 ** 30).toFixed(2)} GiB | ${(result.packBytes / 1e9).toFixed(2)} GB | ${result.unetBytesPerParam.toFixed(3)} |`);
} finally {
  if (!arg('--keep')) rmSync(root, { recursive: true, force: true });
}
