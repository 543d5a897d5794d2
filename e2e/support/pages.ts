// Helpers shared by the specs: a blank secure-context page, test bundles (esbuild, in memory: test
// code never enters the app build), the fake engine worker, and reading the app's result.
import { mkdirSync } from 'node:fs';
import { buildSync } from 'esbuild';
import { expect, type Page } from '@playwright/test';
import { bundleForPage } from './bundle.ts';

/** The main page's controls, by role and accessible name (locators are lazy: a spec uses what it needs). */
export const appLocators = (page: Page) => ({
  prompt: page.getByLabel('Prompt', { exact: true }),
  negative: page.getByLabel('Negative prompt', { exact: true }),
  seed: page.getByLabel('Seed', { exact: true }),
  newSeed: page.getByRole('checkbox', { name: 'New seed each run' }),
  steps: page.getByLabel('Steps', { exact: true }),
  guidance: page.getByLabel('Guidance scale', { exact: true }),
  sampler: page.getByLabel('Sampler', { exact: true }),
  random: page.getByRole('button', { name: 'Random', exact: true }),
  advanced: page.getByRole('button', { name: 'Advanced', exact: true }),
  generate: page.getByRole('button', { name: 'Generate', exact: true }),
  cancel: page.getByRole('button', { name: 'Cancel', exact: true }),
  progress: page.getByRole('progressbar'),
  download: page.getByRole('link', { name: 'Download MP4' }),
  video: page.locator('video'),
  alert: page.getByRole('alert'),
  model: page.getByRole('region', { name: 'Model' }),
  history: page.getByRole('region', { name: 'History' }),
  queue: page.getByRole('region', { name: 'Queue' }),
  label: page.getByRole('banner').locator('.model-label'),
});

export type MediaApi = typeof import('./media-entry.ts');
export const ARTIFACTS = 'e2e-artifacts';
mkdirSync(ARTIFACTS, { recursive: true });

// WebGPU and WebCodecs need a secure context: localhost counts. Nothing listens there; playwright answers.
export const BLANK_ORIGIN = 'http://localhost:4998';

export async function openBlankPage(page: Page): Promise<void> {
  await page.route(`${BLANK_ORIGIN}/**`, (route) => route.fulfill({ contentType: 'text/html', body: '<!doctype html><meta charset="utf-8"><title>harness</title><body></body>' }));
  await page.goto(`${BLANK_ORIGIN}/`);
}

let mediaBundle: string | null = null;
/** Adds `globalThis.Media` (e2e/support/media-entry.ts) to the page. */
export async function injectMedia(page: Page): Promise<void> {
  mediaBundle ??= bundleForPage('e2e/support/media-entry.ts', 'Media');
  await page.addScriptTag({ content: mediaBundle });
}

let fakeWorker: string | null = null;
/** Serve the fake-engine worker instead of the built engine worker. Call before page.goto. */
export async function useFakeEngine(page: Page): Promise<void> {
  fakeWorker ??= buildSync({ entryPoints: ['e2e/support/fake-worker.ts'], bundle: true, format: 'esm', platform: 'browser', target: 'es2022', write: false }).outputFiles[0]!.text;
  const body = fakeWorker;
  await page.context().route(/\/assets\/engine\.worker-[^/]*\.js(\?.*)?$/, (route) =>
    route.fulfill({ contentType: 'text/javascript', body, headers: { 'Cross-Origin-Embedder-Policy': 'require-corp', 'Cross-Origin-Resource-Policy': 'same-origin' } }));
}

/**
 * Open the app with the fake engine on the fake pack `fake:?<fake>` (its options: e2e/support/fake-worker.ts),
 * and wait until it is loaded — unless `waitForPack: false` (a spec that checks the loading itself).
 */
export async function openFake(page: Page, fake = '', o: { waitForPack?: boolean } = {}): Promise<void> {
  await useFakeEngine(page);
  await page.goto(`/?pack=${encodeURIComponent(`fake:?${fake}`)}`);
  if (o.waitForPack ?? true) await expect(page.getByRole('region', { name: 'Model' })).toContainText('fake-test-pack');
}

/** Unfold the form's Advanced section (negative prompt, seed, steps, guidance, sampler, GPU memory)
 * on every load of this page, as if the visitor had opened it before: it starts folded. Call before page.goto. */
export async function showAdvanced(page: Page): Promise<void> {
  await page.addInitScript(() => {
    try {
      const v = JSON.parse(localStorage.getItem('lavie.ui') ?? '{}') as Record<string, boolean>;
      localStorage.setItem('lavie.ui', JSON.stringify({ ...v, advanced: true }));
    } catch {
      // a frame without storage
    }
  });
}

/** The app's "Video" pack fact, e.g. "16 frames · 512×320 · 8 fps". */
export async function packVideoFacts(page: Page): Promise<{ frames: number; width: number; height: number; fps: number }> {
  const text = await page.getByRole('region', { name: 'Model' }).locator('dt:text-is("Video") + dd').innerText();
  const m = /(\d+) frames · (\d+)×(\d+) · ([\d.]+) fps/.exec(text);
  if (!m) throw new Error(`unexpected pack facts: ${text}`);
  return { frames: Number(m[1]), width: Number(m[2]), height: Number(m[3]), fps: Number(m[4]) };
}

/** Decode the video behind the "Download MP4" link, in the page (mediabunny), and summarise it. */
/** LaVie option 4's result on the page: the downloaded video has 61 frames at 24 fps and 4× the base
 * size, and the base and interpolated videos are offered beside it. */
export async function expectOption4Result(page: Page, base: { width: number; height: number }): Promise<void> {
  const v = await decodeDownload(page);
  expect(v.frameCount).toBe(61);
  expect([v.width, v.height]).toEqual([4 * base.width, 4 * base.height]);
  expect(v.duration).toBeCloseTo(61 / 24, 2);
  await expect(page.getByRole('link', { name: /Download interpolation \(61 frames\)/ })).toHaveAttribute('href', /^blob:/);
  await expect(page.getByRole('link', { name: /Download base video \(16 frames\)/ })).toHaveAttribute('href', /^blob:/);
}

export async function decodeDownload(page: Page, keepAs?: string) {
  await injectMedia(page);
  const href = await page.getByRole('link', { name: 'Download MP4' }).getAttribute('href');
  if (!href) throw new Error('Download MP4 has no href');
  return page.evaluate(async ({ href, keepAs }) => {
    const Media = (globalThis as unknown as { Media: MediaApi }).Media;
    const blob = await (await fetch(href)).blob();
    const v = await Media.decodeVideo(blob);
    if (keepAs) ((globalThis as unknown as { kept?: Record<string, unknown> }).kept ??= {})[keepAs] = v.frames;
    return { blobType: blob.type, bytes: blob.size, ...(await Media.summarize(v)) };
  }, { href, keepAs });
}

/** Mean |Δ| between two videos kept by decodeDownload (same length assumed). */
export async function compareKept(page: Page, a: string, b: string): Promise<{ meanAbs: number; maxAbs: number }> {
  return page.evaluate(({ a, b }) => {
    const Media = (globalThis as unknown as { Media: MediaApi }).Media;
    const kept = (globalThis as unknown as { kept: Record<string, Uint8ClampedArray[]> }).kept;
    const fa = kept[a]!;
    const fb = kept[b]!;
    let mean = 0;
    let max = 0;
    for (let i = 0; i < fa.length; i++) {
      const c = Media.compareRgba(fa[i]!, fb[i]!);
      mean += c.meanAbs / fa.length;
      max = Math.max(max, c.maxAbs);
    }
    return { meanAbs: mean, maxAbs: max };
  }, { a, b });
}

/** Wait until the app's Model panel shows a loaded pack; if it shows an error instead, fail with it. */
export async function waitForPackLoaded(page: Page, timeout = 10 * 60_000): Promise<void> {
  const loaded = page.getByRole('region', { name: 'Model' }).locator('dt:text-is("Pack")');
  const alert = page.getByRole('alert');
  await loaded.or(alert).first().waitFor({ state: 'visible', timeout });
  if (await alert.isVisible()) throw new Error(`the pack did not load: [${await alert.getAttribute('data-code')}] ${await alert.locator('.message').innerText()}`);
}

/** An event the app's engine worker sent, as recorded by spyOnWorker (with the page's receive time). */
export interface WorkerEventRecord { t: number; type: string; progress?: { phase: string; step: number; total: number; elapsedMs: number; etaMs?: number; download?: { file: string; bytesPerSec?: number } }; meta?: { elapsedMs: number; ortMs?: number; frames: number; gpuMemory?: import('../../src/protocol.ts').GpuMemoryReport } }

/** Record the app's engine-worker progress and result events in `window.__workerEvents` (call before page.goto). */
export async function spyOnWorker(page: Page): Promise<void> {
  await page.addInitScript(() => {
    const W = window.Worker;
    const log: unknown[] = ((window as unknown as { __workerEvents: unknown[] }).__workerEvents = []);
    window.Worker = class extends W {
      constructor(url: string | URL, opts?: WorkerOptions) {
        super(url, opts);
        this.addEventListener('message', (e: MessageEvent) => {
          const d = e.data;
          if (d?.type === 'progress' || d?.type === 'result') log.push({ t: performance.now(), type: d.type, progress: d.progress, meta: d.meta });
        });
      }
    } as typeof Worker;
  });
}

export const workerEvents = (page: Page): Promise<WorkerEventRecord[]> => page.evaluate(() => (window as unknown as { __workerEvents: WorkerEventRecord[] }).__workerEvents);

/** Files of a stored pack the app had to download again because storage lost them mid-session (the
 * engine's console warning): collected so a test can report it (annotation), since the run recovers. */
export function watchLostFiles(page: Page): string[] {
  const lost: string[] = [];
  page.on('console', (m) => { if (/was missing from local storage; downloading it again/.test(m.text())) lost.push(m.text()); });
  return lost;
}

export function reportLostFiles(lost: string[], info: { annotations: { type: string; description?: string }[] }): void {
  if (!lost.length) return;
  info.annotations.push({ type: 'pack files lost by storage and fetched again', description: lost.splice(0).join('\n') });
  console.warn(info.annotations.at(-1)!.description);
}

/** Names of the entries under OPFS lavie-packs/, per pack. */
export async function opfsListing(page: Page): Promise<Record<string, string[]>> {
  return page.evaluate(async () => {
    type Dir = FileSystemDirectoryHandle & { entries(): AsyncIterable<[string, FileSystemHandle]> };
    const out: Record<string, string[]> = {};
    let top: Dir;
    try {
      top = (await (await navigator.storage.getDirectory()).getDirectoryHandle('lavie-packs')) as Dir;
    } catch {
      return out;
    }
    for await (const [k, d] of top.entries()) {
      out[k] = [];
      for await (const [n] of (d as Dir).entries()) out[k]!.push(n);
    }
    return out;
  });
}
