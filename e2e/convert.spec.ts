// "LaVie (official weights)" in Chromium against a local server that behaves like the Hugging Face
// Hub (tests/support/hub-server.ts: tree API, 302 to a CDN origin with CORS/Range/ETag) serving
// official-format checkpoints at tiny size (random weights): one click lists, downloads, converts in
// the conversion worker into OPFS and loads the pack, on which a short generation runs (real engine);
// every file is byte-identical to the Node conversion of the same files; a cut download resumes
// after a reload, and a reload mid-conversion resumes after the networks already converted; a 404 or wrong bytes give the typed error; files picked on this computer (a
// renamed .pt, an SD folder) convert in the same worker job into the same bytes. One precision (fp16) here: equality
// for every precision is proven in Node through the same job code (tests/packs/convert-official.test.ts).
import { expect, test, type Page } from '@playwright/test';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { TINY_LATENT } from '../src/convert/cli/make-tiny-pack.ts';
import { dirPackSink, nodeFolder } from '../src/convert/cli/node-io.ts';
import { convertOfficial } from '../src/convert/official.ts';
import { jobName, type ConvertJobSpec } from '../src/packs/convert-official.ts';
import { startFakeHub, type FakeHub } from '../tests/support/hub-server.ts';
import { folderFiles, writeTinyOfficialFiles } from '../tests/support/official-files.ts';
import { decodeDownload, showAdvanced, useFakeEngine } from './support/pages.ts';

test.use({ bypassCSP: true }); // decodeDownload injects a script
test.beforeEach(async ({ page }) => {
  await showAdvanced(page); // the Steps field
  await convertForTinyLatent(page);
});

/**
 * The tiny files are converted for their tiny base latent: the conversion requests of this page carry
 * it as the job option the request contract has (ConvertJobSpec.latent; the app sends none, so LaVie's
 * 40×64). A mismatch fails the byte-equality checks against the Node conversion below.
 */
async function convertForTinyLatent(page: Page): Promise<void> {
  await page.addInitScript((latent) => {
    const post = Worker.prototype.postMessage as (this: Worker, ...a: unknown[]) => void;
    Worker.prototype.postMessage = function (this: Worker, msg: unknown, ...rest: unknown[]) {
      const m = msg as { type?: string; spec?: { precisions?: unknown; latent?: unknown } } | null;
      const job = (m?.type === 'start' || m?.type === 'plan') && m.spec?.precisions && !m.spec.latent;
      post.call(this, job ? { ...m, spec: { ...m!.spec, latent } } : msg, ...rest);
    } as typeof Worker.prototype.postMessage;
  }, { height: TINY_LATENT.height, width: TINY_LATENT.width });
}

const TIMEOUT = 20 * 60_000;
const root = mkdtempSync(join(tmpdir(), 'convert-e2e-'));
const files = writeTinyOfficialFiles(root);
let hub: FakeHub;

test.beforeAll(async () => {
  hub = await startFakeHub();
  hub.setRepo('YaohuiW/LaVie', folderFiles(files.lavie));
  hub.setRepo('CompVis/stable-diffusion-v1-4', folderFiles(files.sd14));
});
test.afterAll(async () => hub.close());

const catalogue = (page: Page) => page.getByRole('region', { name: 'LaVie (official weights)' });
const model = (page: Page) => page.getByRole('region', { name: 'Model' });

/** Open the catalogue entry, point it at the local Hub, choose base + fp16. */
async function prepare(page: Page): Promise<void> {
  await page.getByText('LaVie (official weights)', { exact: true }).click();
  const c = catalogue(page);
  await c.getByText('Options').click();
  await c.getByLabel('Model site address').fill(hub.endpoint);
  await c.getByLabel('Weight precision').selectOption('fp16');
  await expect(c.getByRole('note', { name: 'Download and storage' })).toContainText(/Download [\d.]+ [KM]B · stored model about/, { timeout: 60_000 });
}

/** sha256 of every file of the stored pack in OPFS (by manifest path), and its manifest. */
async function storedPack(page: Page): Promise<{ manifest: unknown; hashes: Record<string, string> }> {
  return page.evaluate(async () => {
    type Dir = FileSystemDirectoryHandle & { entries(): AsyncIterable<[string, FileSystemHandle]> };
    const top = (await (await navigator.storage.getDirectory()).getDirectoryHandle('lavie-packs')) as Dir;
    for await (const [, d] of top.entries()) {
      const dir = d as FileSystemDirectoryHandle;
      const mh = await dir.getFileHandle('manifest.json').catch(() => null);
      if (!mh) continue;
      const manifest = JSON.parse(await (await mh.getFile()).text());
      const hashes: Record<string, string> = {};
      const walk = async (v: unknown): Promise<void> => {
        if (Array.isArray(v)) for (const x of v) await walk(x);
        else if (v && typeof v === 'object') {
          const o = v as Record<string, unknown>;
          if (typeof o.path === 'string' && typeof o.sha256 === 'string') {
            const bytes = await (await (await dir.getFileHandle(o.sha256)).getFile()).arrayBuffer();
            hashes[o.path] = [...new Uint8Array(await crypto.subtle.digest('SHA-256', bytes))].map((b) => b.toString(16).padStart(2, '0')).join('');
          } else for (const x of Object.values(o)) await walk(x);
        }
      };
      await walk(manifest.components);
      return { manifest, hashes };
    }
    throw new Error('no converted pack in OPFS');
  });
}

/** The stored pack equals, file by file (sha256), `npm run convert`'s from the same files (base, fp16). */
async function expectNodeEqual(page: Page): Promise<void> {
  const spec: ConvertJobSpec = { source: 'hub', stages: 'base', precisions: { unet: 'fp16', vae: 'fp16', text: 'fp16' }, latent: { height: TINY_LATENT.height, width: TINY_LATENT.width } };
  const out = join(root, 'node-pack');
  if (!existsSync(out)) await convertOfficial({ base: { folder: nodeFolder(files.lavie), path: 'lavie_base.pt' }, sd14: nodeFolder(files.sd14) }, dirPackSink(out), { name: jobName(spec), unetPrecision: 'fp16', vaePrecision: 'fp16', textPrecision: 'fp16', latent: spec.latent });
  const node = Object.fromEntries(readdirSync(out, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => {
    const p = join(e.parentPath, e.name);
    return [relative(out, p).split('\\').join('/'), createHash('sha256').update(readFileSync(p)).digest('hex')];
  }));
  const stored = await storedPack(page);
  const { 'manifest.json': manifestSha, ...nodeFiles } = node;
  expect(stored.hashes).toEqual(nodeFiles);
  expect(createHash('sha256').update(JSON.stringify(stored.manifest, null, 1)).digest('hex')).toBe(manifestSha);
}

test('one click: the official files from the (local) Hub become a stored pack, byte-identical to the Node conversion, and a short generation runs on it', async ({ page }) => {
  test.setTimeout(TIMEOUT * 2);
  const tStart = Date.now();
  // No demo pack first (its load costs minutes here): an address that does not answer.
  await page.goto(`/?pack=${encodeURIComponent('http://127.0.0.1:9/')}`);
  await prepare(page);
  await catalogue(page).getByRole('button', { name: 'Download and convert' }).click();
  await expect(model(page).locator('dt:text-is("From") + dd')).toHaveText(/^stored pack "LaVie \(official weights\)/, { timeout: TIMEOUT });
  await expect(model(page).locator('dt:text-is("Video") + dd')).toContainText(`${TINY_LATENT.frames} frames · `);

  await expectNodeEqual(page);

  // A short generation on the converted pack (real engine).
  const t0 = Date.now();
  await page.getByLabel('Prompt', { exact: true }).fill('a red ball');
  await page.getByLabel('Seed', { exact: true }).fill('7');
  await page.getByLabel('Steps', { exact: true }).fill('2');
  await page.getByRole('button', { name: 'Generate', exact: true }).click();
  const done = page.getByRole('link', { name: 'Download MP4' });
  await expect(done.or(page.getByRole('alert'))).toBeVisible({ timeout: TIMEOUT });
  await expect(done).toBeVisible();
  const v = await decodeDownload(page);
  expect(v.frameCount).toBe(TINY_LATENT.frames);
  console.log(`convert e2e: generation on the converted pack took ${Math.round((Date.now() - t0) / 1000)} s, the whole test ${Math.round((Date.now() - tStart) / 1000)} s`);
});

test('a download cut mid-file resumes after a reload (Range) and completes; 404 and wrong bytes give typed errors (fake engine)', async ({ page }) => {
  test.setTimeout(TIMEOUT);
  await useFakeEngine(page);
  await page.goto(`/?pack=${encodeURIComponent('fake:?')}`);
  await prepare(page);

  // 404 on the checkpoint, then wrong bytes: typed errors, no pack.
  hub.fault = { status: { match: /lavie_base\.pt/, code: 404 } };
  await catalogue(page).getByRole('button', { name: 'Download and convert' }).click();
  await expect(catalogue(page).getByRole('alert')).toHaveAttribute('data-code', 'hub-not-found', { timeout: 60_000 });
  await expect(catalogue(page).getByRole('alert')).toContainText('The model files are not where they should be');
  hub.fault = { corrupt: /lavie_base\.pt/ };
  await catalogue(page).getByRole('button', { name: 'Download and convert' }).click();
  await expect(catalogue(page).getByRole('alert')).toHaveAttribute('data-code', 'hub-corrupt', { timeout: 60_000 });
  await expect(catalogue(page).getByRole('listitem', { name: /^Unfinished conversion base/ })).toBeVisible();

  // The connection breaks half-way through lavie_base.pt (every time): reload while it retries.
  hub.hits.length = 0;
  hub.fault = { cut: { match: /lavie_base\.pt/, at: 0.5, times: 1000 } };
  await catalogue(page).getByRole('listitem', { name: /^Unfinished conversion base/ }).getByRole('button', { name: 'Resume' }).click();
  // Reload once a retry asked for the rest with Range: then part of the file is surely stored (a
  // reload right after the first bytes arrived could come before the worker wrote any — a race that
  // failed this test with two Playwright workers).
  const ranged = () => hub.hits.filter((h) => h.origin === 'cdn' && h.path === 'lavie_base.pt' && h.status === 206 && Number(/bytes=(\d+)-/.exec(h.range ?? '')?.[1]) > 0);
  await expect.poll(() => ranged().length, { timeout: 60_000 }).toBeGreaterThan(0);
  await page.reload();
  const sinceReload = hub.hits.length;
  hub.fault = {};
  // The interrupted job resumes by itself and continues from the stored half.
  await expect(model(page).locator('dt:text-is("From") + dd')).toHaveText(/^stored pack "LaVie \(official weights\)/, { timeout: TIMEOUT });
  const resumed = hub.hits.slice(sinceReload).filter((h) => h.origin === 'cdn' && h.path === 'lavie_base.pt' && h.status === 206);
  expect(resumed.length).toBeGreaterThan(0);
  expect(Number(/bytes=(\d+)-/.exec(resumed.at(-1)!.range!)?.[1])).toBeGreaterThan(0);
  await expect(catalogue(page).getByRole('listitem', { name: /^Unfinished conversion/ })).toHaveCount(0);
});

test('a reload in the middle of the conversion: the job resumes after the networks already converted, builds only the rest, downloads nothing again, and the pack is byte-identical to the Node conversion (fake engine)', async ({ page }) => {
  test.setTimeout(TIMEOUT);
  hub.fault = {};
  await useFakeEngine(page);
  await page.goto(`/?pack=${encodeURIComponent('fake:?')}`);
  await prepare(page);
  await catalogue(page).getByRole('button', { name: 'Download and convert' }).click();
  // In the page (no round trip to the test between seeing the record and reloading): poll the job's
  // info.json until a network is recorded as converted, note its files' times and which files the
  // pack folder holds, then reload.
  const before = await page.evaluate(async () => {
    type Dir = FileSystemDirectoryHandle & { entries(): AsyncIterable<[string, FileSystemHandle]> };
    type Info = { job?: unknown; complete?: boolean; steps?: Record<string, { files: { sha256: string }[] }> };
    const top = (await (await navigator.storage.getDirectory()).getDirectoryHandle('lavie-packs', { create: true })) as Dir;
    const limit = Date.now() + 10 * 60_000;
    while (Date.now() < limit) {
      for await (const [, d] of top.entries()) {
        if (d.kind !== 'directory') continue;
        const dir = d as FileSystemDirectoryHandle;
        const ih = await dir.getFileHandle('info.json').catch(() => null);
        // A torn read (the worker rewriting info.json) is skipped: JSON.parse's throw inside then() is not
        // caught by then()'s second argument.
        const info = ih ? ((await (await ih.getFile()).text().then((t) => { try { return JSON.parse(t); } catch { return null; } }, () => null)) as Info | null) : null;
        if (!info?.job || info.complete || !Object.keys(info.steps ?? {}).length) continue;
        const kept: Record<string, number> = {};
        for (const st of Object.values(info.steps!)) for (const f of st.files) kept[f.sha256] = (await (await dir.getFileHandle(f.sha256)).getFile()).lastModified;
        const present: string[] = [];
        for await (const [name] of (dir as Dir).entries()) if (/^[0-9a-f]{64}$/.test(name)) present.push(name);
        setTimeout(() => location.reload());
        return { steps: Object.keys(info.steps!), kept, present };
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error('no network was recorded as converted');
  });
  const sinceReload = hub.hits.length;
  // The interrupted job resumes by itself, from the stored downloads and the kept networks.
  await expect(model(page).locator('dt:text-is("From") + dd')).toHaveText(/^stored pack "LaVie \(official weights\)/, { timeout: TIMEOUT });
  expect(hub.hits.slice(sinceReload).filter((h) => h.origin === 'cdn')).toEqual([]);
  // The kept networks' files were not written again (same time); every other file of the pack is new
  // since the reload (its lastModified cannot tell: a scratch file the interrupted run had opened is
  // reused under the same name).
  const after = await page.evaluate(async () => {
    type Dir = FileSystemDirectoryHandle & { entries(): AsyncIterable<[string, FileSystemHandle]> };
    const top = (await (await navigator.storage.getDirectory()).getDirectoryHandle('lavie-packs')) as Dir;
    for await (const [, d] of top.entries()) {
      if (d.kind !== 'directory' || !(await (d as FileSystemDirectoryHandle).getFileHandle('manifest.json').catch(() => null))) continue;
      const times: Record<string, number> = {};
      for await (const [name, h] of (d as Dir).entries()) if (/^[0-9a-f]{64}$/.test(name)) times[name] = (await (h as FileSystemFileHandle).getFile()).lastModified;
      return times;
    }
    throw new Error('no converted pack in OPFS');
  });
  const keptNow = Object.fromEntries(Object.keys(before.kept).map((sha) => [sha, after[sha]]));
  expect(keptNow).toEqual(before.kept);
  const rest = Object.keys(after).filter((sha) => !(sha in before.kept));
  expect(rest.length).toBeGreaterThan(0);
  expect(rest.filter((sha) => before.present.includes(sha))).toEqual([]);
  console.log(`convert e2e: reloaded after ${before.steps.join(', ')} (${Object.keys(before.kept).length} files kept); ${rest.length} files built after the reload`);
  await expectNodeEqual(page);
});

test('from files on this computer: the picked .pt file and SD folder convert in the worker into a pack byte-identical to the Node conversion (fake engine, nothing fetched)', async ({ page }) => {
  test.setTimeout(TIMEOUT);
  await useFakeEngine(page);
  await page.goto(`/?pack=${encodeURIComponent('fake:?')}`);
  await prepare(page);
  hub.hits.length = 0;
  const c = catalogue(page);
  await c.getByText('From files on this computer').click();
  await expect(c.getByRole('button', { name: 'Convert these files' })).toBeDisabled();
  // A renamed checkpoint (as a browser names a second download) is recognized by its content.
  await c.getByLabel('LaVie checkpoints (.pt files)').setInputFiles({ name: 'lavie_base (1).pt', mimeType: 'application/octet-stream', buffer: readFileSync(files.basePt) });
  await expect(c.getByRole('status', { name: 'Chosen files' })).toContainText('Still needed for this choice: the stable-diffusion-v1-4 folder');
  await c.getByLabel('A model folder').setInputFiles(files.sd14);
  await expect(c.getByRole('status', { name: 'Chosen files' })).toContainText('lavie_base (1).pt (holds lavie_base.pt)');
  await expect(c.getByRole('status', { name: 'Chosen files' })).toContainText('stable-diffusion-v1-4: CompVis/stable-diffusion-v1-4');
  await expect(c.getByRole('status', { name: 'Chosen files' })).toContainText('Ready to convert.');
  await c.getByRole('button', { name: 'Convert these files' }).click();
  await expect(model(page).locator('dt:text-is("From") + dd')).toHaveText(/^stored pack "LaVie \(official weights\)/, { timeout: TIMEOUT });
  await expectNodeEqual(page);
  expect(hub.hits.filter((h) => h.origin === 'cdn')).toEqual([]);
});
