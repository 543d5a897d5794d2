// Personalizing an installed pack vs personalizing while converting: LoRAs (lora_unet fixture) merged
// into the weights a pack of each precision stores (dequantized), then stored again at that precision,
// against the official merged-model output. Shows the cost of the extra rounding of the changed tensors.
//   npx tsx bench/personalize-installed.ts
import { join, resolve } from 'node:path';
import { readSafetensorsFile } from '../src/convert/cli/node-io.ts';
import { runBaseUNet } from '../src/convert/fixtures/base_unet.ts';
import { Params } from '../src/convert/graphs/params.ts';
import type { UNet3DConfig } from '../src/convert/graphs/unet3d.ts';
import type { WeightPrecision } from '../src/convert/graphs/weights.ts';
import { applyLoras } from '../src/convert/personalize/lora-merge.ts';
import { storedValue } from '../src/convert/personalize/stored-value.ts';
import type { StateDict } from '../src/convert/tensor.ts';
import { readFileSync } from 'node:fs';

const dir = join(process.env.LAVIE_FIXTURES ?? resolve('../shared/fixtures/lavie-tiny'), 'lora_unet');
const cfg = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as UNet3DConfig & { _weights: { path: string }; _merge: { files: { file: string; multiplier: number }[] } };
const weights = join(dir, cfg._weights.path);
const base = readSafetensorsFile(weights);
const loras = cfg._merge.files.map((f) => ({ file: f.file, sd: readSafetensorsFile(join(dir, f.file)), multiplier: f.multiplier }));
const io = readSafetensorsFile(join(dir, 'inputs.safetensors'));
const ref = readSafetensorsFile(join(dir, 'outputs.safetensors')).get('out')!.read();

const rel = (got: Float32Array) => {
  let d = 0;
  let m = 0;
  for (let i = 0; i < ref.length; i++) { d = Math.max(d, Math.abs(got[i]! - ref[i]!)); m = Math.max(m, Math.abs(ref[i]!)); }
  return d / Math.max(1, m);
};

console.log('| precision | merged at conversion | merged into the installed pack |');
console.log('|---|---|---|');
for (const p of ['fp16', 'int8', 'int4'] as WeightPrecision[]) {
  const atConversion = applyLoras({ unet: base, unetKeys: base.keys(), unetConfig: cfg }, loras);
  const a = await runBaseUNet(cfg, new Params(atConversion.unet, weights), io, { precision: p });
  // The installed pack holds storedValue(W); merging into it and storing again rounds twice.
  const installed: StateDict = new Map(base);
  for (const k of atConversion.changed) {
    const key = k.slice('unet:'.length);
    const w = base.get(key)!;
    installed.set(key, { dtype: 'float32', shape: w.shape, read: () => storedValue(w.read(), w.shape, p) });
  }
  const merged = applyLoras({ unet: installed, unetKeys: installed.keys(), unetConfig: cfg }, loras);
  const b = await runBaseUNet(cfg, new Params(merged.unet, weights), io, { precision: p });
  console.log(`| ${p} | ${rel(a.data as Float32Array).toExponential(1)} | ${rel(b.data as Float32Array).toExponential(1)} |`);
}
