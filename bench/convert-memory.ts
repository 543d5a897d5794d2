// Peak memory of converting a FULL-SIZE official base checkpoint (issue 16: "never more than one
// tensor plus bounded buffers in JS; state the measured peak"). Synthetic inputs (bench/fullsize-inputs.ts:
// lavie_base.pt with LaVie's real shapes in the {"ema": …} layout, 3.64 GB, and an SD-1.4 folder with a
// full CLIP-L) converted for "base, fp16":
//   (a) in Node by the converter of `npm run convert` (a child process: peak RSS by GNU time, and
//       process.memoryUsage() — heap, external, arrayBuffers — sampled on every read and write);
//   (b) in Chromium by the app's own job (workers/convert.worker.ts): the files served by the local
//       fake Hub (tests/support/hub-server.ts, from disk), "Download and convert" clicked in the Model
//       panel, OPFS on disk (a persistent profile); every Chromium process's RSS sampled from /proc
//       every 250 ms, by process type (the worker runs in the renderer; OPFS writes go through the
//       browser process), and performance.measureUserAgentSpecificMemory()'s worker share when the
//       page allows it.
// Both packs are compared (the browser's manifest against the Node one: every file's sha256).
// Not a test: CPU and disk heavy (≈ 15 GB on disk at the peak, deleted afterwards). Run it niced:
//   nice -n 10 npm run bench:convert-memory [-- --port 4105 --keep <dir> --skip-browser]
// The app is built first with VITE_PACK_HOSTS allowing 127.0.0.1 (the fake Hub's address).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { chromium } from '@playwright/test';
import { runCli } from '../src/convert/cli/cli-util.ts';
import { dirPackSink, nodeFolder } from '../src/convert/cli/node-io.ts';
import type { ByteSource, PackSink, SourceFolder } from '../src/convert/io/bytes.ts';
import { convertOfficial } from '../src/convert/official.ts';
import { jobName, type ConvertJobSpec } from '../src/packs/convert-official.ts';
import { fileBody, startFakeHub, type FileBody } from '../tests/support/hub-server.ts';
import { useFakeEngine } from '../e2e/support/pages.ts';
import { CHROMIUM_ARGS } from '../playwright.config.ts';
import { writeFullSizeInputs } from './fullsize-inputs.ts';

const USAGE = `usage: npm run bench:convert-memory -- [--port 4105] [--keep <dir>] [--skip-browser | --skip-node] [--no-build]

Writes full-size synthetic official-format inputs (lavie_base.pt 3.64 GB, an SD-1.4 folder), converts
them for "base, fp16" in Node and in Chromium (the app's conversion job against a local fake Hub), and
reports the peak memory of each.
  --port <n>                port for the built app (vite preview; default 4105)
  --keep <dir>              write inputs, packs and the browser profile under <dir> and keep them
  --skip-browser            Node only
  --skip-node               browser only (with --keep: compares with the kept Node pack)
  --no-build                use the existing dist/ (built with VITE_PACK_HOSTS allowing http://127.0.0.1:*)
  -h, --help                print this help`;

/** The browser panel's "fp16" choice (OfficialWeights.tsx precisionsFor). */
const SPEC: ConvertJobSpec = { source: 'hub', stages: 'base', precisions: { unet: 'fp16', vae: 'fp16', text: 'fp16' } };

interface Peaks { rss: number; heapUsed: number; heapTotal: number; external: number; arrayBuffers: number }

/** The Node side, in its own process: the converter over the files, sampling memoryUsage on each read and write (≥ 20 ms apart). */
async function nodeChild(root: string): Promise<void> {
  const peaks: Peaks = { rss: 0, heapUsed: 0, heapTotal: 0, external: 0, arrayBuffers: 0 };
  let last = 0;
  const sample = (force = false) => {
    const t = performance.now();
    if (!force && t - last < 20) return;
    last = t;
    const m = process.memoryUsage();
    for (const k of Object.keys(peaks) as (keyof Peaks)[]) peaks[k] = Math.max(peaks[k], m[k]);
  };
  const timer = setInterval(() => sample(true), 100);
  const sampled = (f: SourceFolder): SourceFolder => ({
    name: f.name,
    has: (p) => f.has(p),
    async open(p): Promise<ByteSource> {
      const s = await f.open(p);
      return { size: s.size, read: (o, l) => { const out = s.read(o, l); sample(); return out; } };
    },
  });
  const sink: PackSink = dirPackSink(join(root, 'pack-node'));
  const create = sink.create.bind(sink);
  sink.create = async (path) => {
    const f = await create(path);
    return { write: (c) => { f.write(c); sample(); }, close: () => f.close() };
  };
  const t0 = performance.now();
  await convertOfficial({ base: { folder: sampled(nodeFolder(join(root, 'lavie'))), path: 'lavie_base.pt' }, sd14: sampled(nodeFolder(join(root, 'stable-diffusion-v1-4'))) }, sink, {
    name: jobName(SPEC), unetPrecision: 'fp16', vaePrecision: 'fp16', textPrecision: 'fp16',
  });
  sample(true);
  clearInterval(timer);
  console.log(JSON.stringify({ seconds: (performance.now() - t0) / 1000, peaks }));
}

/** Chromium's processes (descendants of this one), by --type (browser: none): RSS, and PSS (shared pages split, so PSS adds up across processes). */
function chromiumProcesses(): { pid: number; type: string; rss: number; pss: number }[] {
  const parent = new Map<number, number>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      parent.set(Number(d), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch { /* gone */ }
  }
  const mine = (pid: number): boolean => {
    for (let p = parent.get(pid); p; p = parent.get(p)) if (p === process.pid) return true;
    return false;
  };
  const out: { pid: number; type: string; rss: number; pss: number }[] = [];
  for (const pid of parent.keys()) {
    if (!mine(pid)) continue;
    try {
      if (!/chrom/.test(readlinkSync(`/proc/${pid}/exe`))) continue;
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split(/[\0 ]/); // Chromium rewrites its children's titles: spaces
      const type = cmd.find((a) => a.startsWith('--type='))?.slice(7) ?? 'browser';
      const sub = cmd.find((a) => a.startsWith('--utility-sub-type='))?.slice(19);
      const rss = Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) * 1024;
      const pss = Number(/^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'))?.[1] ?? 0) * 1024;
      out.push({ pid, type: sub ? `${type}:${sub}` : type, rss, pss });
    } catch { /* gone */ }
  }
  return out;
}

const waitFor = async (url: string, ms: number) => {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await fetch(url).then((r) => r.ok, () => false)) return;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`${url} did not answer`);
};

/** A folder as a Hub repo's files: large files served from disk. */
async function repoFiles(dir: string): Promise<Map<string, Uint8Array | FileBody>> {
  const out = new Map<string, Uint8Array | FileBody>();
  for (const e of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!e.isFile()) continue;
    const p = join(e.parentPath, e.name);
    out.set(relative(dir, p).split('\\').join('/'), statSync(p).size > 64e6 ? await fileBody(p) : new Uint8Array(readFileSync(p)));
  }
  return out;
}

async function browserRun(root: string, port: number, build: boolean): Promise<Record<string, unknown>> {
  if (build) {
    const b = spawnSync('npm', ['run', 'build'], { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, VITE_PACK_HOSTS: 'http://127.0.0.1:*' } });
    if (b.status !== 0) throw new Error('npm run build failed');
  }
  let preview: ChildProcess | null = null;
  const hub = await startFakeHub();
  try {
    // vite itself (not through npx: killing npx would leave it serving), with the CSP allowing the fake Hub.
    preview = spawn(process.execPath, ['node_modules/vite/bin/vite.js', 'preview', '--port', String(port), '--strictPort'], { stdio: 'ignore', env: { ...process.env, VITE_PACK_HOSTS: 'http://127.0.0.1:*' } });
    const base = `http://localhost:${port}`;
    await waitFor(base, 60_000);
    hub.setRepo('YaohuiW/LaVie', await repoFiles(join(root, 'lavie')));
    hub.setRepo('CompVis/stable-diffusion-v1-4', await repoFiles(join(root, 'stable-diffusion-v1-4')));
    const context = await chromium.launchPersistentContext(join(root, 'profile'), {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: [...CHROMIUM_ARGS, '--enable-blink-features=ForceEagerMeasureMemory'],
      serviceWorkers: 'block',
      viewport: { width: 1280, height: 800 },
    });
    try {
      const page = context.pages()[0] ?? (await context.newPage());
      await useFakeEngine(page); // the pack is measured, not run
      await page.goto(`${base}/?pack=${encodeURIComponent('fake:?')}`);
      await page.getByText('LaVie (official weights)', { exact: true }).click();
      const c = page.getByRole('region', { name: 'LaVie (official weights)' });
      await c.getByText('Options').click();
      await c.getByLabel('Model site address').fill(hub.endpoint);
      await c.getByLabel('Weight precision').selectOption('fp16');
      const note = c.getByRole('note', { name: 'Download and storage' });
      await note.getByText(/Download [\d.]+ [KMG]B/).waitFor({ timeout: 120_000 }).catch(async (e: unknown) => {
        throw new Error(`no sizes from the fake Hub: "${await note.textContent().catch(() => '?')}" (${String(e)})`);
      });
      const isolated = await page.evaluate(() => self.crossOriginIsolated && 'measureUserAgentSpecificMemory' in performance);

      const peaks: Record<string, number> = {};
      const pssPeaks: Record<string, number> = {};
      let total = 0;
      let totalPss = 0;
      let phaseAtPeak = '';
      let status = '';
      const sampler = setInterval(() => {
        const ps = chromiumProcesses();
        const byType: Record<string, number> = {};
        const pssByType: Record<string, number> = {};
        for (const p of ps) {
          byType[p.type] = (byType[p.type] ?? 0) + p.rss;
          pssByType[p.type] = (pssByType[p.type] ?? 0) + p.pss;
        }
        for (const [t, v] of Object.entries(byType)) peaks[t] = Math.max(peaks[t] ?? 0, v);
        for (const [t, v] of Object.entries(pssByType)) pssPeaks[t] = Math.max(pssPeaks[t] ?? 0, v);
        total = Math.max(total, ps.reduce((s, p) => s + p.rss, 0));
        const pss = ps.reduce((s, p) => s + p.pss, 0);
        if (pss > totalPss) {
          totalPss = pss;
          phaseAtPeak = status;
        }
      }, 250);
      let workerPeak = 0;
      let measures = 0;
      const t0 = Date.now();
      await c.getByRole('button', { name: 'Download and convert' }).click();
      const done = page.getByRole('region', { name: 'Model' }).locator('dt:text-is("From") + dd').getByText(/^stored pack "LaVie \(official weights\)/);
      while (!(await done.isVisible())) {
        const alert = await c.getByRole('alert').textContent({ timeout: 100 }).catch(() => null);
        if (alert) throw new Error(`the browser conversion failed: ${alert}`);
        status = (await c.getByRole('progressbar').getAttribute('aria-valuetext', { timeout: 500 }).catch(() => null)) ?? (await c.getByRole('status').first().textContent({ timeout: 500 }).catch(() => null)) ?? status;
        if (isolated) {
          const m = await page.evaluate(async () => {
            type Measure = { breakdown: { bytes: number; attribution: { scope: string }[] }[] };
            const r = await Promise.race([
              (performance as Performance & { measureUserAgentSpecificMemory(): Promise<Measure> }).measureUserAgentSpecificMemory(),
              new Promise<never>((_, no) => setTimeout(() => no(new Error('no answer in 20 s')), 20_000)),
            ]);
            return r.breakdown.filter((b) => b.attribution.some((a) => a.scope === 'DedicatedWorkerGlobalScope')).reduce((s, b) => s + b.bytes, 0);
          }).catch(() => null);
          if (m !== null) {
            measures++;
            workerPeak = Math.max(workerPeak, m);
          }
        }
        console.error(`${Math.round((Date.now() - t0) / 1000)} s: ${status} · Chromium PSS now ${(chromiumProcesses().reduce((s, p) => s + p.pss, 0) / 2 ** 30).toFixed(2)} GiB`);
        await new Promise((r) => setTimeout(r, 5000));
      }
      clearInterval(sampler);
      const seconds = (Date.now() - t0) / 1000;
      // The stored manifest against the Node pack's (its every file's sha256; the job verified the stored files against it).
      const manifest = await page.evaluate(async () => {
        type Dir = FileSystemDirectoryHandle & { entries(): AsyncIterable<[string, FileSystemHandle]> };
        const top = (await (await navigator.storage.getDirectory()).getDirectoryHandle('lavie-packs')) as Dir;
        for await (const [, d] of top.entries()) {
          const mh = await (d as FileSystemDirectoryHandle).getFileHandle('manifest.json').catch(() => null);
          if (mh) return JSON.parse(await (await mh.getFile()).text()) as unknown;
        }
        return null;
      });
      const nodeManifest = join(root, 'pack-node', 'manifest.json');
      const equal = manifest !== null && createHash('sha256').update(JSON.stringify(manifest, null, 1)).digest('hex') === createHash('sha256').update(readFileSync(nodeManifest)).digest('hex');
      return { seconds, peakRssBytesByProcessType: peaks, peakPssBytesByProcessType: pssPeaks, peakRssBytesAllChromium: total, peakPssBytesAllChromium: totalPss, statusAtPeakPss: phaseAtPeak, workerMeasuredPeakBytes: isolated && measures ? workerPeak : null, workerMeasures: measures, sameManifestAsNode: equal };
    } finally {
      await context.close();
    }
  } finally {
    await hub.close();
    preview?.kill();
  }
}

async function main(opts: Record<string, string>): Promise<void> {
  if (opts['node-child']) return nodeChild(opts['node-child']);
  const root = opts.keep ? resolve(opts.keep) : mkdtempSync(join(tmpdir(), 'convert-memory-'));
  try {
    const t0 = performance.now();
    const pt = join(root, 'lavie', 'lavie_base.pt');
    // --keep <dir> of an earlier run: its inputs are reused (and its Node pack with --skip-node).
    const ptBytes = existsSync(pt) ? statSync(pt).size : writeFullSizeInputs(root).ptBytes;
    console.error(`inputs ready in ${((performance.now() - t0) / 1000).toFixed(0)} s (lavie_base.pt ${(ptBytes / 1e9).toFixed(2)} GB)`);
    const node = opts['skip-node'] ? null : nodeRun(root);
    const browser = opts['skip-browser'] ? null : await browserRun(root, Number(opts.port ?? 4105), !opts['no-build']);
    console.log(JSON.stringify({ command: 'nice -n 10 npm run bench:convert-memory', inputBytes: ptBytes, node, browser }, null, 1));
  } finally {
    if (!opts.keep) rmSync(root, { recursive: true, force: true });
  }
}

function nodeRun(root: string) {
  const r = spawnSync('/usr/bin/time', ['-f', '%e %M', process.execPath, '--import', 'tsx', 'bench/convert-memory.ts', '--node-child', root], { encoding: 'utf8', maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`the Node conversion failed:\n${r.stderr}`);
  const [, kb] = r.stderr.trim().split('\n').pop()!.split(' ').map(Number);
  const child = JSON.parse(r.stdout.trim().split('\n').pop()!) as { seconds: number; peaks: Peaks };
  const node = { seconds: child.seconds, peakRssBytes: kb! * 1024, sampled: child.peaks };
  console.error(`node: ${JSON.stringify(node)}`);
  return node;
}

runCli({ usage: USAGE, options: ['port', 'keep', 'node-child'], switches: ['skip-browser', 'skip-node', 'no-build'] }, ({ opts }) => main(opts));
