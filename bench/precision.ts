// Weight precision vs the official outputs: every fixture network converted at fp32, fp16, int8
// and int4, run on onnxruntime-node, compared with the official PyTorch outputs.
//   npm run bench:precision [-- --json out.json]
// Prints a Markdown table (docs/BENCHMARKS.md §Precision) and optionally the raw numbers as JSON.
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { FIXTURE_RUNNERS } from '../src/convert/fixtures/index.ts';
import { WEIGHT_PRECISIONS } from '../src/convert/graphs/weights.ts';
import { readSafetensors } from '../src/convert/io/safetensors.ts';

const FIX = process.env.LAVIE_FIXTURES ?? resolve('../shared/fixtures/lavie-tiny');
const CASES: [network: string, folder: string, outputs: string[]][] = [
  ['base_unet', 'base_unet', ['out']],
  ['base_transformer3d', 'base_transformer3d', ['out']],
  ['interp_unet', 'interp_unet', ['out']],
  ['vsr_unet', 'vsr_unet', ['out']],
  ['vsr_transformer3d', 'vsr_transformer3d', ['out']],
  ['sd_vae', 'sd_vae', ['latent_mean', 'decoded']],
  ['clip_text', 'clip_text', ['last_hidden_state']],
];

interface Row { network: string; output: string; precision: string; maxAbs: number; refMax: number; rel: number }
const rows: Row[] = [];
for (const [network, folder, outputs] of CASES) {
  const dir = join(FIX, folder);
  const ref = readSafetensors(join(dir, 'outputs.safetensors'));
  const { run } = await FIXTURE_RUNNERS[network]!();
  for (const precision of WEIGHT_PRECISIONS) {
    const res = await run(dir, network, precision);
    if (res.kind !== 'tensors') throw new Error(`${network}: expected tensors`);
    for (const o of outputs) {
      const got = res.tensors[o]!.data as Float32Array;
      const want = ref.get(o)!.read();
      let maxAbs = 0;
      let refMax = 0;
      for (let i = 0; i < want.length; i++) {
        maxAbs = Math.max(maxAbs, Math.abs(got[i]! - want[i]!));
        refMax = Math.max(refMax, Math.abs(want[i]!));
      }
      rows.push({ network, output: o, precision, maxAbs, refMax, rel: maxAbs / Math.max(1, refMax) });
      process.stderr.write(`${network}.${o} ${precision}: ${maxAbs.toExponential(2)}\n`);
    }
  }
}

const fmt = (x: number) => x.toExponential(1);
console.log('| network · output | max\\|ref\\| | fp32 | fp16 | int8 | int4 |');
console.log('|---|---|---|---|---|---|');
for (const [network, , outputs] of CASES) {
  for (const o of outputs) {
    const r = rows.filter((x) => x.network === network && x.output === o);
    console.log(`| ${network} · ${o} | ${r[0]!.refMax.toFixed(2)} | ${WEIGHT_PRECISIONS.map((p) => fmt(r.find((x) => x.precision === p)!.rel)).join(' | ')} |`);
  }
}
const i = process.argv.indexOf('--json');
if (i > 0) writeFileSync(process.argv[i + 1]!, JSON.stringify({ fixtures: FIX, rows, versions: JSON.parse(readFileSync('package.json', 'utf8')).devDependencies }, null, 1));
