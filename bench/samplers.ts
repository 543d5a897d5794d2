// Fewer steps at equal quality, on the tiny pack in Node (onnxruntime-node): how far the decoded
// frames of DPM-Solver++ 2M and DDIM at 20 and 25 steps are from (a) the 50-step DDPM result
// (LaVie's default) and (b) a 200-step DDIM result (the deterministic ODE both ODE solvers approximate).
//   npm run bench:samplers
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeTinyPack } from '../src/convert/cli/make-tiny-pack.ts';
import { LaVieEngine } from '../src/engine/engine.ts';
import { createNodeRuntime } from '../src/engine/runtime/node-runtime.ts';
import { openDirPack } from '../src/packs/sources/node-folder.ts';
import type { SamplerName } from '../src/protocol.ts';

const dir = mkdtempSync(join(tmpdir(), 'bench-samplers-'));
await makeTinyPack(dir);
const engine = await LaVieEngine.load(createNodeRuntime(), openDirPack(dir));
const SEEDS = [1, 2, 3];
async function frames(sampler: SamplerName, steps: number, seed: number): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  await engine.generate({ id: 'b', prompt: 'a red fox running through snow', negativePrompt: '', seed, steps, guidanceScale: 7.5, sampler }, { signal: new AbortController().signal, onProgress: () => {}, onFrame: (f) => { out.push(f.rgba); } });
  return out;
}
const dist = (a: Uint8Array[], b: Uint8Array[]) => {
  let s = 0;
  let n = 0;
  for (let f = 0; f < a.length; f++) for (let i = 0; i < a[f]!.length; i++) if (i % 4 !== 3) { s += Math.abs(a[f]![i]! - b[f]![i]!); n++; }
  return s / n;
};
const rows: string[] = ['| sampler, steps | mean \\|Δ\\| to DDPM-50 (levels) | mean \\|Δ\\| to DDIM-200 (levels) |', '|---|---|---|'];
const acc = new Map<string, [number, number]>();
for (const seed of SEEDS) {
  const ddpm50 = await frames('ddpm', 50, seed);
  const ddim200 = await frames('ddim', 200, seed);
  for (const [s, n] of [['dpm++2m', 20], ['ddim', 20], ['dpm++2m', 25], ['ddim', 25], ['ddpm', 25]] as const) {
    const f = await frames(s, n, seed);
    const k = `${s}, ${n}`;
    const [a, b] = acc.get(k) ?? [0, 0];
    acc.set(k, [a + dist(f, ddpm50) / SEEDS.length, b + dist(f, ddim200) / SEEDS.length]);
  }
}
for (const [k, [a, b]] of acc) rows.push(`| ${k} | ${a.toFixed(2)} | ${b.toFixed(2)} |`);
console.log(rows.join('\n'));
await engine.dispose();
