// The "wide" networks: LaVie's full channel widths (320/640/1280/1280 UNet, SD-1.4 VAE) on a small
// latent — 16 frames at 8×8 — so compute, not per-node overhead, dominates, as at real sizes, yet a
// call fits 2 cores. One UNet call (batch 1: one half of a guided step) and one VAE frame decode on
// onnxruntime-node, onnxruntime-web wasm (1 thread; 2 threads in a cross-origin-isolated page) and
// WebGPU (opt-in, see WIDE_WEBGPU), in one run. The weights (random, fp32) are written once to a temp folder as external-data
// shards and served by a local HTTP server, as a pack would be.
// Writes e2e-artifacts/bench/wide.json and prints the BENCHMARKS.md table.
import { test } from '@playwright/test';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { DEFAULT_MAX_TENSOR_BYTES } from '../src/convert/graphs/nn.ts';
import { Params } from '../src/convert/graphs/params.ts';
import { LAVIE_BASE_UNET_CONFIG, buildBaseUNet } from '../src/convert/graphs/unet3d.ts';
import { SD14_VAE_CONFIG, buildVaeDecoder } from '../src/convert/graphs/vae.ts';
import { GraphBuilder } from '../src/convert/onnx/graph.ts';
import { writeGraph } from '../src/convert/pack/write-graph.ts';
import { synthesizer } from '../src/convert/synthetic.ts';
import { startPackServer } from '../tests/support/pack-server.ts';
import { openOrtPage, runOnWebGpu, type HarnessTensor } from '../e2e/support/ort-page.ts';
import { hostFeeds, nodeTimes, stats, waveTensor, type Stats } from './support.ts';
import { dirPackSink } from '../src/convert/cli/node-io.ts';

const NODE_RUNS = Number(process.env.BENCH_RUNS ?? 3);
const WEB_RUNS = Number(process.env.BENCH_WIDE_WEB_RUNS ?? 3);
const [F, H, W] = [16, 8, 8];
// SwiftShader does ~0.1–0.3 GFLOP/s: one wide UNet call would take over 20 minutes there (measured:
// a warm-up plus two runs had not finished after 30 min). Opt in with BENCH_WIDE_WEBGPU=1.
const WIDE_WEBGPU = process.env.BENCH_WIDE_WEBGPU === '1';
// The app runs wasm multi-threaded (it is cross-origin isolated); the single-threaded wide rows cost
// ~2 min more and are opt-in (BENCH_WIDE_WASM1=1), unless the page is not isolated.
const WIDE_WASM1 = process.env.BENCH_WIDE_WASM1 === '1';
// Full widths; one layer per block instead of two keeps the fp32 weights (2.4 GB) inside the
// 4 GB wasm heap with room for activations — per-layer work is the same as LaVie's.
export const WIDE_UNET = { ...LAVIE_BASE_UNET_CONFIG, layers_per_block: 1 };

const ctx = (g: GraphBuilder) => ({ g, p: new Params(new Map(), 'synthetic', synthesizer(1)), precision: 'fp32' as const, maxTensorBytes: DEFAULT_MAX_TENSOR_BYTES });
const t = waveTensor;

interface Case { name: string; graph: GraphBuilder; feeds: Record<string, HarnessTensor> }

function cases(): Case[] {
  const unet = new GraphBuilder('wide_unet');
  buildBaseUNet(ctx(unet), WIDE_UNET, { batch: 1, frames: F, height: H, width: W });
  const vae = new GraphBuilder('wide_vae_decoder');
  buildVaeDecoder(ctx(vae), SD14_VAE_CONFIG, { batch: 1, height: H, width: W });
  return [
    { name: `wide UNet call (1 × ${F} × ${H}×${W}, widths 320–1280)`, graph: unet, feeds: { sample: t([1, 4, F, H, W]), timestep: { dtype: 'float32', dims: [1], data: [500] }, encoder_hidden_states: t([1, 77, 768]) } },
    { name: `SD-1.4 VAE decode, 1 frame (${H}×${W} → ${H * 8}×${W * 8})`, graph: vae, feeds: { latent: t([1, 4, H, W]) } },
  ];
}

/** Kernel time (µs) by op type of one profiled run (the second; the first warms up). */
async function nodeProfile(path: string, feeds: Record<string, HarnessTensor>, dir: string): Promise<Map<string, number>> {
  const prefix = join(dir, 'profile');
  const s = await ort.InferenceSession.create(path, { graphOptimizationLevel: 'all', enableProfiling: true, profileFilePrefix: prefix });
  const f = hostFeeds(feeds);
  await s.run(f);
  await s.run(f);
  await s.release(); // writes the profile
  const file = readdirSync(dir).find((n) => n.startsWith('profile') && n.endsWith('.json'));
  if (!file) throw new Error('onnxruntime-node wrote no profile');
  const events = JSON.parse(readFileSync(join(dir, file), 'utf8')) as { cat: string; name: string; ts: number; dur: number; args?: { op_name?: string } }[];
  const last = events.filter((e) => e.name === 'model_run').at(-1)!;
  const byOp = new Map<string, number>();
  for (const e of events) {
    if (e.cat !== 'Node' || !e.name.endsWith('_kernel_time') || e.ts < last.ts || e.ts > last.ts + last.dur) continue;
    const op = e.args?.op_name ?? '?';
    byOp.set(op, (byOp.get(op) ?? 0) + e.dur);
  }
  return byOp;
}

/** The wide UNet's dominant kernels alone: a 1280-wide linear over its tokens and a 1280→1280 3×3 conv. */
function kernelCases(): Case[] {
  const p = new Params(new Map(), 'synthetic', synthesizer(2));
  const mm = new GraphBuilder('matmul');
  const x = mm.input('x', 'float32', [F * H * W, 1280]);
  mm.output(mm.op('MatMul', [x, mm.weight('w', p.get('mm.w', [1280, 1280]))], {}, { shape: [F * H * W, 1280], dtype: 'float32' }), 'y');
  const conv = new GraphBuilder('conv');
  const c = conv.input('x', 'float32', [F, 1280, H, W]);
  conv.output(conv.op('Conv', [c, conv.weight('w', p.get('conv.w', [1280, 1280, 3, 3]))], { pads: [1, 1, 1, 1] }, { shape: [F, 1280, H, W], dtype: 'float32' }), 'y');
  return [
    { name: `MatMul [${F * H * W}×1280]·[1280×1280]`, graph: mm, feeds: { x: t([F * H * W, 1280]) } },
    { name: `Conv 3×3 1280→1280 on [${F},1280,${H},${W}]`, graph: conv, feeds: { x: t([F, 1280, H, W]) } },
  ];
}

test('wide networks (full LaVie widths, small latent): node vs wasm vs WebGPU', async ({ page }) => {
  test.setTimeout(40 * 60_000);
  const dir = mkdtempSync(join(tmpdir(), 'lavie-wide-'));
  const server = await startPackServer(dir);
  try {
    const all = cases();
    const sink = dirPackSink(dir);
    const written: Awaited<ReturnType<typeof writeGraph>>[] = [];
    for (const c of all) written.push(await writeGraph(c.graph, sink, '', c.graph.name, { precision: 'fp32', shardBytes: 1 << 30 }));
    await sink.commit();
    const models = Object.fromEntries(all.map((c, i) => [c.name, new Uint8Array(readFileSync(join(dir, written[i]!.graph.path)))]));
    const shardsOf = (i: number) => written[i]!.externalData.map((e) => ({ path: e.path, url: `${server.url}${e.path}` }));
    await openOrtPage(page, models);
    const isolated = await page.evaluate(() => crossOriginIsolated);
    const rows = [];
    for (const [i, c] of all.entries()) {
      const node = stats(await nodeTimes(join(dir, written[i]!.graph.path), c.feeds, NODE_RUNS));
      const web = async (p: typeof page, opts: { ep: 'webgpu' | 'wasm'; threads: number }) => {
        const r = await runOnWebGpu(p, c.name, c.feeds, { verbose: false, timedRuns: WEB_RUNS, externalData: shardsOf(i), ...opts });
        if (r.error) throw new Error(`${c.name} ${opts.ep}/${opts.threads}: ${r.error}`);
        return stats(r.runMs!);
      };
      // ORT fixes its wasm thread count at initialisation, and each wasm heap holds a copy of the
      // weights: each configuration gets a page of its own, closed before the next.
      const fresh = async () => {
        const p = await page.context().newPage();
        await openOrtPage(p, models);
        return p;
      };
      const measure = async (opts: { ep: 'webgpu' | 'wasm'; threads: number }) => {
        const p = await fresh();
        try {
          return await web(p, opts);
        } finally {
          await p.close();
        }
      };
      console.log(c.name, 'node', JSON.stringify(node));
      const wasm2 = isolated ? await measure({ ep: 'wasm', threads: 2 }) : undefined;
      console.log(c.name, 'wasm2', JSON.stringify(wasm2));
      const wasm1 = !isolated || WIDE_WASM1 ? await measure({ ep: 'wasm', threads: 1 }) : undefined;
      console.log(c.name, 'wasm1', JSON.stringify(wasm1));
      const webgpu = WIDE_WEBGPU ? await measure({ ep: 'webgpu', threads: 1 }) : undefined;
      const row = { network: c.name, nodes: c.graph.nodes.length, gflop: c.graph.flops().total / 1e9, weightBytes: c.graph.weightBytes(), node, ...(wasm1 ? { wasm1 } : {}), ...(wasm2 ? { wasm2 } : {}), ...(webgpu ? { webgpu } : {}) };
      rows.push(row);
      console.log(JSON.stringify(row));
    }
    mkdirSync('e2e-artifacts/bench', { recursive: true });
    const ms = (x: Stats) => `${x.median.toFixed(0)} (${x.min.toFixed(0)}–${x.max.toFixed(0)})`;
    const lines = ['| network (wide) | nodes | GFLOP | weights | node CPU ms (GFLOP/s) | wasm 2 threads ms | speed vs node | wasm 1 thread ms | speed vs node | WebGPU (SwiftShader) ms | speed vs node |', '|---|---|---|---|---|---|---|---|---|---|---|'];
    for (const r of rows as { network: string; nodes: number; gflop: number; weightBytes: number; node: Stats; wasm1?: Stats; wasm2?: Stats; webgpu?: Stats }[]) {
      const rate = (v: Stats) => (r.gflop / (v.median / 1000)).toFixed(1);
      const speed = (v?: Stats) => (v ? `${(r.node.median / v.median).toFixed(2)}×` : '—');
      lines.push(`| ${r.network} | ${r.nodes} | ${r.gflop.toFixed(1)} | ${(r.weightBytes / 1e9).toFixed(2)} GB | ${ms(r.node)} (${rate(r.node)}) | ${r.wasm2 ? `${ms(r.wasm2)} (${rate(r.wasm2)})` : '—'} | ${speed(r.wasm2)} | ${r.wasm1 ? `${ms(r.wasm1)} (${rate(r.wasm1)})` : 'opt-in'} | ${speed(r.wasm1)} | ${r.webgpu ? `${ms(r.webgpu)} (${rate(r.webgpu)})` : 'not run'} | ${speed(r.webgpu)} |`);
    }
    console.log(`\n${lines.join('\n')}\n`);

    // Where the time goes. (1) onnxruntime-node's profiler: kernel time of one wide UNet call by op type.
    const byOp = await nodeProfile(join(dir, written[0]!.graph.path), all[0]!.feeds, dir);
    const total = [...byOp.values()].reduce((a, b) => a + b, 0);
    const top = [...byOp].sort((a, b) => b[1] - a[1]).slice(0, 8).map(([op, us]) => ({ op, ms: us / 1000, share: us / total }));
    console.log(`| op type (node profile, wide UNet call) | ms | share |\n|---|---|---|\n${top.map((r) => `| ${r.op} | ${r.ms.toFixed(0)} | ${(100 * r.share).toFixed(1)} % |`).join('\n')}\n`);
    // (2) The two kernels that dominate, alone, at the wide UNet's sizes, on each runtime.
    const kernels = kernelCases();
    const kmodels = Object.fromEntries(kernels.map((k) => [k.name, k.graph.encode()]));
    const krows = [];
    for (const k of kernels) {
      const node = stats(await nodeTimes(k.graph.encode(), k.feeds, NODE_RUNS));
      const inPage = async (threads: number) => {
        const p = await page.context().newPage();
        try {
          await openOrtPage(p, kmodels);
          const r = await runOnWebGpu(p, k.name, k.feeds, { verbose: false, timedRuns: NODE_RUNS, ep: 'wasm', threads });
          if (r.error) throw new Error(`${k.name} wasm/${threads}: ${r.error}`);
          return stats(r.runMs!);
        } finally {
          await p.close();
        }
      };
      const wasm2 = isolated ? await inPage(2) : undefined;
      const wasm1 = await inPage(1);
      krows.push({ kernel: k.name, gflop: k.graph.flops().total / 1e9, node, wasm1, ...(wasm2 ? { wasm2 } : {}) });
    }
    const rate = (gflop: number, v?: Stats) => (v ? (gflop / (v.median / 1000)).toFixed(1) : '—');
    const rel = (a: Stats, v?: Stats) => (v ? `${(a.median / v.median).toFixed(2)}×` : '—');
    console.log(`| kernel alone | GFLOP | node GFLOP/s | wasm 2 threads GFLOP/s | speed vs node | wasm 1 thread GFLOP/s | speed vs node |\n|---|---|---|---|---|---|---|\n${krows.map((r) => `| ${r.kernel} | ${r.gflop.toFixed(1)} | ${rate(r.gflop, r.node)} | ${rate(r.gflop, r.wasm2)} | ${rel(r.node, r.wasm2)} | ${rate(r.gflop, r.wasm1)} | ${rel(r.node, r.wasm1)} |`).join('\n')}\n`);
    writeFileSync('e2e-artifacts/bench/wide.json', JSON.stringify({ nodeRuns: NODE_RUNS, webRuns: WEB_RUNS, crossOriginIsolated: isolated, rows, nodeProfile: top, kernels: krows }, null, 1));
  } finally {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
