// Weight precision vs the official outputs: every fixture network converted at fp32, fp16, int8
// and int4 (fp32 compute), and the fp16-compute variant (shader-f16 adapters) with fp16 and int8
// weights, run on onnxruntime-node, compared with the official PyTorch outputs.
//   npm run bench:precision [-- --json out.json] [-- --only lora_unet,dreambooth_unet]
// Prints a Markdown table (docs/BENCHMARKS.md §Precision) and optionally the raw numbers as JSON.
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { FIXTURE_RUNNERS } from '../src/convert/fixtures/index.ts';
import { WEIGHT_PRECISIONS, type WeightPrecision } from '../src/convert/graphs/weights.ts';
import type { ComputePrecision } from '../src/protocol.ts';
import { readSafetensorsFile } from '../src/convert/cli/node-io.ts';

const FIX = process.env.LAVIE_FIXTURES ?? resolve('../shared/fixtures/lavie-tiny');
const ALL_CASES: [network: string, folder: string, outputs: string[]][] = [
  ['base_unet', 'base_unet', ['out']],
  ['base_transformer3d', 'base_transformer3d', ['out']],
  ['interp_unet', 'interp_unet', ['out']],
  ['vsr_unet', 'vsr_unet', ['out']],
  ['vsr_transformer3d', 'vsr_transformer3d', ['out']],
  ['sd_vae', 'sd_vae', ['latent_mean', 'decoded']],
  ['clip_text', 'clip_text', ['last_hidden_state']],
  // Personalized networks: LoRAs / a DreamBooth checkpoint merged in float32, then stored at each precision.
  ['lora_unet', 'lora_unet', ['out']],
  ['lora_clip_text', 'lora_clip_text', ['last_hidden_state']],
  ['dreambooth_unet', 'dreambooth_unet', ['out_replace', 'out_add_difference']],
];
const only = process.argv.indexOf('--only');
const CASES = only > 0 ? ALL_CASES.filter(([n]) => process.argv[only + 1]!.split(',').includes(n)) : ALL_CASES;

const VARIANTS: { label: string; precision: WeightPrecision; compute: ComputePrecision }[] = [
  ...WEIGHT_PRECISIONS.map((precision) => ({ label: precision, precision, compute: 'fp32' as const })),
  { label: 'fp16 · fp16 compute', precision: 'fp16', compute: 'fp16' },
  { label: 'int8 · fp16 compute', precision: 'int8', compute: 'fp16' },
];

interface Row { network: string; output: string; precision: string; maxAbs: number; refMax: number; rel: number }
const rows: Row[] = [];
for (const [network, folder, outputs] of CASES) {
  const dir = join(FIX, folder);
  const ref = readSafetensorsFile(join(dir, 'outputs.safetensors'));
  const { run } = await FIXTURE_RUNNERS[network]!();
  for (const { label: precision, ...opts } of VARIANTS) {
    const res = await run(dir, network, opts);
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
console.log(`| network · output | max\\|ref\\| | ${VARIANTS.map((v) => v.label).join(' | ')} |`);
console.log(`|---|---|${VARIANTS.map(() => '---|').join('')}`);
for (const [network, , outputs] of CASES) {
  for (const o of outputs) {
    const r = rows.filter((x) => x.network === network && x.output === o);
    console.log(`| ${network} · ${o} | ${r[0]!.refMax.toFixed(2)} | ${VARIANTS.map((v) => fmt(r.find((x) => x.precision === v.label)!.rel)).join(' | ')} |`);
  }
}
const i = process.argv.indexOf('--json');
if (i > 0) writeFileSync(process.argv[i + 1]!, JSON.stringify({ fixtures: FIX, rows, versions: JSON.parse(readFileSync('package.json', 'utf8')).devDependencies }, null, 1));
