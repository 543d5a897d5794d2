// A whole base generation on the tiny pack in the real app (WebGPU on SwiftShader here), broken down
// by phase from the worker's own events: text encoding, each denoising step, VAE decode, MP4 encode,
// and the time spent outside ORT runs (JS, copies, waits). Serves the built app (npm run build) from
// dist/. Writes e2e-artifacts/bench/generation-<webgpu|wasm>.json and prints the BENCHMARKS.md table.
import { test, type Page } from '@playwright/test';
import { NO_WEBGPU_LAUNCH } from '../playwright.config.ts';
import { stats } from './support.ts';
import { formatGpuMemory } from '../src/app/format.ts';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { showAdvanced, spyOnWorker, workerEvents } from '../e2e/support/pages.ts';
import { startPackServer } from '../tests/support/pack-server.ts';

const STEPS = Number(process.env.BENCH_GEN_STEPS ?? 10);

// WebGPU (SwiftShader here), and the wasm fallback (Chromium without WebGPU). On WebGPU a run()
// resolves once its work is submitted, so GPU time lands in whatever waits next; on wasm run()
// is the whole computation and "outside ORT" is truly JS, copies and waits.
test('whole base generation, by phase (tiny pack, webgpu)', ({ page }) => generation(page, 'webgpu'));

test('whole base generation, by phase (tiny pack, wasm fallback)', async ({ playwright }) => {
  // A browser of its own, launched without WebGPU (launchOptions cannot change per test).
  const browser = await playwright.chromium.launch(NO_WEBGPU_LAUNCH);
  try {
    await generation(await browser.newPage(), 'wasm');
  } finally {
    await browser.close();
  }
});

async function generation(page: Page, ep: 'webgpu' | 'wasm') {
  if (!existsSync('dist/index.html')) throw new Error('run `npm run build` first (npm run bench does)');
  const app = await startPackServer('dist', { headers: { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' } });
  try {
    await spyOnWorker(page);
    await showAdvanced(page);
    await page.goto(app.url);
    await page.getByRole('region', { name: 'Model' }).locator('dt:text-is("Pack")').waitFor({ timeout: 10 * 60_000 });
    const device = (await page.getByRole('region', { name: 'Model' }).locator('dd[data-field="Compute"]').textContent()) ?? '';
    if (!device.startsWith(ep)) throw new Error(`expected the app to run on ${ep}, it says ${device}`);
    await page.evaluate(() => { (window as unknown as { __workerEvents: unknown[] }).__workerEvents.length = 0; });
    await page.getByLabel('Prompt', { exact: true }).fill('a teddy bear playing the guitar');
    await page.getByLabel('Seed', { exact: true }).fill('1');
    await page.getByLabel('Steps', { exact: true }).fill(String(STEPS));
    await page.getByLabel('Sampler').selectOption('ddim');
    await page.getByRole('button', { name: 'Generate', exact: true }).click();
    await page.getByRole('link', { name: 'Download MP4' }).waitFor({ timeout: 30 * 60_000 });
    const ev = await workerEvents(page);

    const prog = ev.filter((e) => e.type === 'progress' && e.progress);
    const first = (phase: string) => prog.find((e) => e.progress!.phase === phase)!;
    const last = (phase: string) => [...prog].reverse().find((e) => e.progress!.phase === phase)!;
    const result = ev.find((e) => e.type === 'result')!;
    const t0 = prog[0]!.t;
    // Denoise events: one per finished step (the first one also carries the loop's setup).
    const denoise = prog.filter((e) => e.progress!.phase === 'denoise');
    const textEnd = last('text').t;
    const stepMs = denoise.map((e, i) => e.t - (i === 0 ? textEnd : denoise[i - 1]!.t));
    const phases = {
      text: textEnd - t0,
      steps: denoise.at(-1)!.t - textEnd,
      decode: first('encode').t - denoise.at(-1)!.t,
      encode: result.t - first('encode').t,
      total: result.t - t0,
    };
    const ortMs = result.meta?.ortMs ?? NaN;
    const gpuMemory = result.meta?.gpuMemory ?? null;
    const out = { device, steps: STEPS, phases, step: stats(stepMs), ortMs, outsideOrtMs: phases.total - phases.encode - ortMs, frames: result.meta?.frames, lastDecode: last('decode').progress, gpuMemory };
    mkdirSync('e2e-artifacts/bench', { recursive: true });
    writeFileSync(`e2e-artifacts/bench/generation-${ep}.json`, JSON.stringify(out, null, 2));
    const f = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
    console.log(`\n| phase (base, tiny pack, ${STEPS} DDIM steps, ${device}) | time | share |\n|---|---|---|`);
    for (const [k, v] of Object.entries(phases)) if (k !== 'total') console.log(`| ${k} | ${f(v)} | ${((100 * v) / phases.total).toFixed(0)} % |`);
    console.log(`| **total** | ${f(phases.total)} | 100 % |`);
    console.log(`| one step: median (min–max) | ${f(out.step.median)} (${f(out.step.min)}–${f(out.step.max)}) | |`);
    console.log(`| awaiting ORT run() / the rest (excl. encode) | ${f(ortMs)} / ${f(out.outsideOrtMs)} | |\n`);
    // The GPU memory counter (WebGPU only): every buffer on the engine's device, by owner and phase.
    if (gpuMemory) console.log(`GPU memory (tiny pack, ${device}): ${formatGpuMemory(gpuMemory)}\n`);
  } finally {
    await app.close();
  }
}
