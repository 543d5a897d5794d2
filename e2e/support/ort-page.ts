// A bare page that loads onnxruntime-web's /webgpu build straight from node_modules (served by
// playwright's router, no app involved) and runs a given ONNX graph on WebGPU. Used to prove that
// every emitted graph runs fully on the WebGPU EP and matches onnxruntime-node.
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Page } from '@playwright/test';

const ORT_DIST = resolve('node_modules/onnxruntime-web/dist');
// WebGPU needs a secure context: localhost counts. Nothing listens there; playwright answers.
export const HARNESS_ORIGIN = 'http://localhost:4999';

export interface HarnessTensor { dtype: 'float32' | 'int64'; dims: number[]; data: number[] }
export interface HarnessResult {
  outputs: Record<string, { dims: number[]; data: number[] }>;
  /** Lines of ORT's verbose log that report node placement. */
  placementLog: string[];
  log: string[];
  error?: string;
  /** Where it failed: creating the session, or running it. */
  failedAt?: 'create' | 'run';
  /** Wall time of each timed run after the first (warm-up) run, ms. */
  runMs?: number[];
  createMs?: number;
}

export async function openOrtPage(page: Page, models: Record<string, Uint8Array>): Promise<void> {
  await page.route(`${HARNESS_ORIGIN}/**`, async (route) => {
    const url = new URL(route.request().url());
    // Cross-origin isolated, so the wasm EP may use threads (SharedArrayBuffer).
    const isolation = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp', 'Cross-Origin-Resource-Policy': 'same-origin' };
    if (url.pathname === '/') return route.fulfill({ contentType: 'text/html', headers: isolation, body: '<!doctype html><title>ort harness</title>' });
    if (url.pathname.startsWith('/ort/')) {
      const file = join(ORT_DIST, url.pathname.slice(5));
      const type = file.endsWith('.wasm') ? 'application/wasm' : 'text/javascript';
      return route.fulfill({ contentType: type, headers: isolation, body: readFileSync(file) });
    }
    if (url.pathname.startsWith('/model/')) {
      const m = models[decodeURIComponent(url.pathname.slice(7))];
      if (m) return route.fulfill({ contentType: 'application/octet-stream', headers: isolation, body: Buffer.from(m) });
    }
    return route.fulfill({ status: 404, body: 'not found' });
  });
  await page.goto(`${HARNESS_ORIGIN}/`);
}

/** Run model `name` on WebGPU in the page with verbose ORT logging; returns outputs + placement lines. */
export async function runOnWebGpu(page: Page, name: string, feeds: Record<string, HarnessTensor>, opts: { verbose?: boolean; timedRuns?: number; ep?: 'webgpu' | 'wasm'; threads?: number; externalData?: { path: string; url: string }[] } = {}): Promise<HarnessResult> {
  const log: string[] = [];
  const onConsole = (m: { text(): string }) => log.push(m.text());
  page.on('console', onConsole);
  try {
    const res = await page.evaluate(async ({ name, feeds, origin, verbose, timedRuns, ep, threads, shards }) => {
      const ort = await import(/* @vite-ignore */ `${origin}/ort/ort.webgpu.min.mjs`);
      ort.env.wasm.wasmPaths = `${origin}/ort/`;
      ort.env.wasm.numThreads = threads;
      ort.env.logLevel = verbose ? 'verbose' : 'warning';
      const g = globalThis as unknown as { __dev?: GPUDevice };
      if (!g.__dev) {
        const adapter = await navigator.gpu.requestAdapter();
        if (!adapter) throw new Error('no WebGPU adapter');
        g.__dev = await adapter.requestDevice({ requiredLimits: { maxBufferSize: adapter.limits.maxBufferSize, maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize } });
      }
      const bytes = new Uint8Array(await (await fetch(`${origin}/model/${encodeURIComponent(name)}`)).arrayBuffer());
      // Weight shards of a graph too big for one buffer, from a real HTTP server (a GB through playwright's router is slow).
      const externalData: { path: string; data: Uint8Array }[] = [];
      for (const f of shards) externalData.push({ path: f.path, data: new Uint8Array(await (await fetch(f.url)).arrayBuffer()) });
      let stage: 'create' | 'run' = 'create';
      try {
        const c0 = performance.now();
        const session = await ort.InferenceSession.create(bytes, {
          executionProviders: ep === 'wasm' ? ['wasm'] : [{ name: 'webgpu', device: g.__dev }],
          logSeverityLevel: verbose ? 0 : 2,
          logVerbosityLevel: 0,
          graphOptimizationLevel: 'all',
          ...(externalData.length ? { externalData } : {}),
        });
        const createMs = performance.now() - c0;
        stage = 'run';
        const ortFeeds: Record<string, unknown> = {};
        for (const [k, t] of Object.entries(feeds)) {
          ortFeeds[k] = t.dtype === 'int64'
            ? new ort.Tensor('int64', BigInt64Array.from(t.data.map((v: number) => BigInt(v))), t.dims)
            : new ort.Tensor('float32', Float32Array.from(t.data), t.dims);
        }
        let out = await session.run(ortFeeds);
        const runMs: number[] = [];
        for (let r = 0; r < timedRuns; r++) {
          const t0 = performance.now();
          out = await session.run(ortFeeds);
          await Promise.all(Object.values(out).map((t) => (t as { getData(): Promise<unknown> }).getData()));
          runMs.push(performance.now() - t0);
        }
        const outputs: Record<string, { dims: number[]; data: number[] }> = {};
        for (const [k, t] of Object.entries(out) as [string, { dims: number[]; getData(): Promise<ArrayLike<number>> }][]) {
          outputs[k] = { dims: [...t.dims], data: Array.from(await t.getData(), Number) };
        }
        await session.release();
        return { outputs, runMs, createMs };
      } catch (e) {
        return { outputs: {}, error: String((e as Error)?.message ?? e), failedAt: stage };
      }
    }, { name, feeds, origin: HARNESS_ORIGIN, verbose: opts.verbose ?? true, timedRuns: opts.timedRuns ?? 0, ep: opts.ep ?? 'webgpu', threads: opts.threads ?? 1, shards: opts.externalData ?? [] });
    const placementLog = log.filter((l) => /placed on|Node placements|not assigned/i.test(l));
    return { ...res, placementLog, log };
  } finally {
    page.off('console', onConsole);
  }
}

/** Node names that ORT's verbose placement log says run on the CPU EP. */
export function cpuPlacedNodes(log: string[]): string[] {
  const out: string[] = [];
  for (const l of log) {
    const m = /Node\(s\) placed on \[CPUExecutionProvider\][^\n]*\n?([\s\S]*)/.exec(l);
    if (m) out.push(...m[1]!.split('\n').map((s) => s.trim()).filter(Boolean));
  }
  return out;
}
