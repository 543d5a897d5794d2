// Full-size conversion: a synthetic lavie_base.pt with LaVie's real shapes (909 M params, fp32,
// {"ema": …} torch zip, 3.6 GB) and a full-size SD-1.4 folder (VAE and CLIP-L text encoder in the
// diffusers/transformers file layout, as .safetensors or as torch-zip .bin), converted by
// `npm run convert` in a child process whose wall time and peak RSS (GNU time, %M) are measured.
// The inputs are written to a temp folder first (not timed) and deleted afterwards.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { runCli } from '../src/convert/cli/cli-util.ts';
import { writeFullSizeInputs } from './fullsize-inputs.ts';

const USAGE = `usage: npm run bench:convert-full -- [--precision fp16] [--sd-format safetensors|bin] [--keep <dir>]

Writes full-size synthetic inputs (lavie_base.pt, an SD-1.4 folder) and times npm run convert on
them, reporting wall time and peak RSS (GNU time).
  --precision <p>           UNet weight precision for the pack (default fp16)
  --sd-format <f>           SD folder weights as *.safetensors (default) or torch-zip *.bin
  --keep <dir>              write inputs and pack under <dir> and keep them
  -h, --help                print this help`;

const dirBytes = (d: string): number => readdirSync(d, { withFileTypes: true }).reduce((s, e) => s + (e.isDirectory() ? dirBytes(join(d, e.name)) : statSync(join(d, e.name)).size), 0);

async function main(opts: Record<string, string>): Promise<void> {
  const precision = opts.precision ?? 'fp16';
  const sdFormat = opts['sd-format'] ?? 'safetensors';
  if (sdFormat !== 'safetensors' && sdFormat !== 'bin') throw new Error(`--sd-format: safetensors or bin, not "${sdFormat}"`);
  const root = opts.keep ? resolve(opts.keep) : mkdtempSync(join(tmpdir(), 'convert-full-'));
try {
  const t0 = performance.now();
  const { basePt, sd14, ptBytes } = writeFullSizeInputs(root, sdFormat);
  console.error(`inputs written in ${((performance.now() - t0) / 1000).toFixed(0)} s (lavie_base.pt ${(ptBytes / 1e9).toFixed(2)} GB)`);

  const out = join(root, 'pack');
  const r = spawnSync('/usr/bin/time', ['-f', '%e %M', 'npx', 'tsx', 'src/convert/cli/convert.ts', '--base', basePt, '--sd14', sd14, '--out', out, '--unet-precision', precision], { encoding: 'utf8', maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`convert failed:\n${r.stderr}`);
  const [secs, kb] = r.stderr.trim().split('\n').pop()!.split(' ').map(Number);
  const unetBytes = dirBytes(join(out, 'unet'));
  const result = {
    command: `npm run bench:convert-full -- --precision ${precision} --sd-format ${sdFormat}`,
    inputBytes: ptBytes,
    seconds: secs,
    peakRssBytes: kb! * 1024,
    packBytes: dirBytes(out),
    unetBytes,
    unetBytesPerParam: unetBytes / 909_124_356,
  };
  console.log(JSON.stringify(result, null, 1));
  console.log(`| ${precision} | ${sdFormat} | ${(ptBytes / 1e9).toFixed(2)} GB | ${secs!.toFixed(0)} s | ${(result.peakRssBytes / 2 ** 30).toFixed(2)} GiB | ${(result.packBytes / 1e9).toFixed(2)} GB | ${result.unetBytesPerParam.toFixed(3)} |`);
} finally {
  if (!opts.keep) rmSync(root, { recursive: true, force: true });
}
}

runCli({ usage: USAGE, options: ['precision', 'sd-format', 'keep'] }, ({ opts }) => main(opts));
