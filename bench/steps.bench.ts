// Per-call times of the tiny pack's networks on onnxruntime-node (CPU), onnxruntime-web WebGPU and
// onnxruntime-web wasm (1 thread, and 2 threads in a cross-origin-isolated page), in one run, with
// ratios to node. Writes e2e-artifacts/bench/steps.json and prints the BENCHMARKS.md table.
import { test } from '@playwright/test';
import { mkdirSync, writeFileSync } from 'node:fs';
import { TINY_LATENT, TINY_UNET, TINY_VAE, TINY_VSR_UNET, TINY_X4_VAE } from '../src/convert/cli/make-tiny-pack.ts';
import { buildVsrUNet } from '../src/convert/graphs/vsr-unet.ts';
import { DEFAULT_MAX_TENSOR_BYTES } from '../src/convert/graphs/nn.ts';
import { Params } from '../src/convert/graphs/params.ts';
import { buildBaseUNet, buildInterpUNet } from '../src/convert/graphs/unet3d.ts';
import { buildVaeDecoder } from '../src/convert/graphs/vae.ts';
import { GraphBuilder } from '../src/convert/onnx/graph.ts';
import { synthesizer } from '../src/convert/synthetic.ts';
import { openOrtPage, runOnWebGpu, type HarnessTensor } from '../e2e/support/ort-page.ts';
import { nodeTimes, stats, waveTensor } from './support.ts';

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
// SwiftShader spends 10–40 s per UNet run and varies little between runs (±10 %): two timed runs
// after the warm-up keep `npm run bench` near 15 minutes on 2 cores.
const GPU_RUNS = Number(process.env.BENCH_WEBGPU_RUNS ?? 2);
const { frames: F, height: H, width: W } = TINY_LATENT;
const ctx = (g: GraphBuilder) => ({ g, p: new Params(new Map(), 'synthetic', synthesizer(1)), precision: 'fp32' as const, maxTensorBytes: DEFAULT_MAX_TENSOR_BYTES });
const t = waveTensor;


interface Case { name: string; graph: GraphBuilder; feeds: Record<string, HarnessTensor> }
function cases(): Case[] {
  const interpF = 4 * F - 3;
  const text = t([2, 77, 32]);
  const ts: HarnessTensor = { dtype: 'float32', dims: [1], data: [500] };
  const base = new GraphBuilder('base_unet');
  buildBaseUNet(ctx(base), TINY_UNET, { batch: 2, frames: F, height: H, width: W });
  const interp = new GraphBuilder('interp_unet');
  buildInterpUNet(ctx(interp), { ...TINY_UNET, in_channels: 8 }, { batch: 2, frames: interpF, height: H, width: W });
  const vae = new GraphBuilder('vae_decoder');
  buildVaeDecoder(ctx(vae), TINY_VAE, { batch: 1, height: H, width: W });
  // VSR on the tiny pack: the latent grid is the base video's pixel grid (4·H × 4·W), one tile.
  const VH = 4 * H;
  const VW = 4 * W;
  const vsr = new GraphBuilder('vsr_unet');
  buildVsrUNet(ctx(vsr), TINY_VSR_UNET, { batch: 2, frames: 8, height: VH, width: VW });
  const x4 = new GraphBuilder('x4_vae_decoder');
  buildVaeDecoder(ctx(x4), TINY_X4_VAE, { batch: 1, height: VH, width: VW });
  return [
    { name: `base UNet step (CFG 2 × ${F} × ${H}×${W})`, graph: base, feeds: { sample: t([2, 4, F, H, W]), timestep: ts, encoder_hidden_states: text } },
    { name: `interpolation UNet step (CFG 2 × ${interpF} × ${H}×${W})`, graph: interp, feeds: { sample: t([2, 4, interpF, H, W]), condition: t([2, 4, interpF, H, W]), timestep: ts, encoder_hidden_states: text } },
    { name: `VAE decode, 1 frame (${H}×${W} → ${H * 4}×${W * 4})`, graph: vae, feeds: { latent: t([1, 4, H, W]) } },
    { name: `VSR UNet call (CFG 2 × 8 frames × ${VH}×${VW} tile)`, graph: vsr, feeds: { sample: t([2, 4, 8, VH, VW]), low_res: t([2, 3, 8, VH, VW]), timestep: ts, class_labels: { dtype: 'int64', dims: [2], data: [50, 50] }, encoder_hidden_states: text } },
    { name: `x4 VAE decode, 1 frame tile (${VH}×${VW} → ${VH * 4}×${VW * 4})`, graph: x4, feeds: { latent: t([1, 4, VH, VW]) } },
  ];
}

test('tiny-pack networks: node vs WebGPU vs wasm', async ({ page }) => {
  const rows: Record<string, unknown>[] = [];
  const all = cases();
  const models = Object.fromEntries(all.map((c) => [c.name, c.graph.encode()]));
  await openOrtPage(page, models);
  const isolated = await page.evaluate(() => crossOriginIsolated);
  // ORT fixes its wasm thread count when it first initialises: the 2-thread runs get a page of their own.
  const page2 = await page.context().newPage();
  await openOrtPage(page2, models);
  for (const c of all) {
    const node = stats(await nodeTimes(c.graph.encode(), c.feeds, RUNS));
    const gpu = await runOnWebGpu(page, c.name, c.feeds, { verbose: false, timedRuns: GPU_RUNS });
    if (gpu.error) throw new Error(`${c.name} webgpu: ${gpu.error}`);
    const wasm1 = await runOnWebGpu(page, c.name, c.feeds, { verbose: false, timedRuns: RUNS, ep: 'wasm', threads: 1 });
    const wasm2 = isolated ? await runOnWebGpu(page2, c.name, c.feeds, { verbose: false, timedRuns: RUNS, ep: 'wasm', threads: 2 }) : undefined;
    const row = {
      network: c.name,
      nodes: c.graph.nodes.length,
      gflop: c.graph.flops().total / 1e9,
      node: node,
      webgpu: stats(gpu.runMs!),
      wasm1: stats(wasm1.runMs!),
      ...(wasm2?.runMs ? { wasm2: stats(wasm2.runMs) } : {}),
    };
    rows.push(row);
    console.log(JSON.stringify(row));
  }
  mkdirSync('e2e-artifacts/bench', { recursive: true });
  writeFileSync('e2e-artifacts/bench/steps.json', JSON.stringify({ runs: RUNS, webgpuRuns: GPU_RUNS, crossOriginIsolated: isolated, rows }, null, 1));
  const ms = (x: { median: number; min: number; max: number }) => `${x.median.toFixed(0)} (${x.min.toFixed(0)}–${x.max.toFixed(0)})`;
  const lines = ['| network (tiny pack) | nodes | GFLOP | node CPU ms | GFLOP/s | WebGPU (SwiftShader) ms | ×node | wasm 1 thread ms | ×node | wasm 2 threads ms | ×node |', '|---|---|---|---|---|---|---|---|---|---|---|'];
  for (const r of rows as { network: string; nodes: number; gflop: number; node: { median: number; min: number; max: number }; webgpu: { median: number; min: number; max: number }; wasm1: { median: number; min: number; max: number }; wasm2?: { median: number; min: number; max: number } }[]) {
    const x = (v: { median: number }) => (v.median / r.node.median).toFixed(1);
    const rate = (v: { median: number }) => (r.gflop / (v.median / 1000)).toFixed(1);
    lines.push(`| ${r.network} | ${r.nodes} | ${r.gflop.toFixed(2)} | ${ms(r.node)} | ${rate(r.node)} | ${ms(r.webgpu)} (${rate(r.webgpu)} GFLOP/s) | ${x(r.webgpu)} | ${ms(r.wasm1)} | ${x(r.wasm1)} | ${r.wasm2 ? ms(r.wasm2) : '—'} | ${r.wasm2 ? x(r.wasm2) : '—'} |`);
  }
  console.log(lines.join('\n'));
  // One VSR window of the tiny pack (1 step × 1 tile, then 8 frames through the x4 decoder).
  const typed = rows as { network: string; node: { median: number }; webgpu: { median: number }; wasm1: { median: number }; wasm2?: { median: number } }[];
  const unet = typed.find((r) => r.network.startsWith('VSR UNet'))!;
  const dec = typed.find((r) => r.network.startsWith('x4 VAE'))!;
  const win = (k: 'node' | 'webgpu' | 'wasm1' | 'wasm2') => (unet[k] && dec[k] ? (unet[k]!.median + 8 * dec[k]!.median) / 1000 : NaN);
  console.log(`\n| VSR window, tiny pack (1 step × 1 tile + 8 decodes) | node s | WebGPU s | wasm 1 thread s | wasm 2 threads s |\n|---|---|---|---|---|\n| 8 frames | ${win('node').toFixed(2)} | ${win('webgpu').toFixed(1)} | ${win('wasm1').toFixed(2)} | ${win('wasm2').toFixed(2)} |`);
});
