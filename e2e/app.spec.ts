// The real app with the real engine on the built-in tiny demo pack (test weights: output is noise),
// WebGPU on SwiftShader — slow, so one denoising step, generous timeouts, and one page for all the
// checks: on SwiftShader loading the pack and compiling its WGSL pipelines cost more than a
// generation, so the tests below share one load (serial: each leaves the page idle for the next).
import { expect, test, type Page } from '@playwright/test';
import { PROMPT_TEXT_TOKENS } from '../src/protocol/request.ts';
import { expectEtaAt25Within, recordEta } from './support/eta.ts';
import { ARTIFACTS, compareKept, decodeDownload, opfsListing, packVideoFacts, reportLostFiles, showAdvanced, appLocators, watchLostFiles } from './support/pages.ts';
import { FAST_STEPS, generate, stageOptions, waitForPack, waitForProgress, waitForResult } from './support/real-app.ts';

// These specs inject test helpers (an inline script that decodes the MP4) into the app page, which the
// app's CSP rightly refuses; delivery.spec and embed.spec run under the real CSP.
test.use({ bypassCSP: true });

const ui = appLocators;

// Issue 17's "ETA at 25 %" on the real engine: the whole-job ETA shown at 25 % of a run's time is
// within 2.5× (either way: 0.4×–2.5×) of the time the run actually had left. Measured 2026-12-03 on
// SwiftShader beside a training run, seed 43's run below: 1.29 (shown 0:37, 29 s left), 0.80
// (0:24, 30 s left), 0.88 (0:27, 31 s left). 2.5× leaves room for the machine's load changing mid-run; an ETA of 0:00, or one
// 3× off, fails.
const ETA_FACTOR = 2.5;

test.describe.serial('app with the real engine (demo pack), one page and one pack load', () => {
  test.setTimeout(30 * 60_000);
  let page: Page;
  let lost: string[] = [];
  test.beforeAll(async ({ browser }, info) => {
    const { baseURL, viewport } = info.project.use;
    page = await browser.newPage({ baseURL, viewport, bypassCSP: true, serviceWorkers: 'block' });
    lost = watchLostFiles(page);
    await showAdvanced(page);
    await page.goto('/');
  });
  test.afterEach(async ({}, info) => {
    reportLostFiles(lost, info);
    if (info.status !== info.expectedStatus) {
      await info.attach('page at failure', { body: await page.screenshot({ fullPage: true }), contentType: 'image/png' });
      // What storage holds of the packs then (a later stage's first read has found the pack's folder emptied).
      await info.attach('opfs at failure', { body: JSON.stringify(await opfsListing(page).catch((e: unknown) => String(e))), contentType: 'application/json' });
    }
  });
  test.afterAll(async () => {
    await page?.context().close();
  });

  test('the page starts: controls are there, the demo pack loads on WebGPU in fp32, the prompt shows its tokens', async () => {
    const u = ui(page);
    for (const l of [u.prompt, page.getByLabel('Negative prompt', { exact: true }), u.seed, u.steps, page.getByLabel('Guidance scale', { exact: true }), page.getByLabel('Sampler', { exact: true })]) await expect(l).toBeVisible();
    await expect(page.getByRole('button', { name: 'Random', exact: true })).toBeVisible();
    await expect(u.cancel).toBeDisabled();
    await waitForPack(page);
    await expect(u.alert).toHaveCount(0);
    await expect(page.getByRole('banner').getByText('Test weights: output is noise')).toBeVisible();
    await expect(u.generate).toBeEnabled();
    // SwiftShader has no shader-f16: the engine must pick the pack's fp32 graphs.
    await expect(u.model.locator('dd[data-field="Compute"]')).toHaveText('webgpu · fp32 compute');
    // The worker counts the prompt's tokens on the pack's tokenizer.
    await u.prompt.fill('a panda playing guitar by a lake');
    await expect(page.locator('.token-count')).toHaveText(new RegExp(`^[1-9]\\d* of ${PROMPT_TEXT_TOKENS} tokens$`));
    await u.prompt.fill('panda '.repeat(PROMPT_TEXT_TOKENS + 1));
    await expect(page.locator('.token-count')).toContainText(`only the first ${PROMPT_TEXT_TOKENS} are used`);
  });

  test('prompt → Generate → an MP4 with the pack\'s frames, size and duration; Cancel mid-run returns to idle; then same seed → same frames, other seed → different', async () => {
    await waitForPack(page);
    const u = ui(page);
    await stageOptions(page, {});
    const pack = await packVideoFacts(page);
    await u.prompt.fill('a panda playing guitar by a lake');
    await u.seed.fill('42');
    await u.steps.fill(FAST_STEPS);
    await u.generate.click();
    await expect(u.progress).toBeVisible();
    await expect(u.cancel).toBeEnabled();
    await waitForResult(page, '42');
    await expect(u.download).toHaveAttribute('href', /^blob:/);
    const v = await decodeDownload(page, 'a');
    console.log('result:', { ...v, frameHashes: undefined, meanLevel: undefined });
    expect(v.blobType).toBe('video/mp4');
    expect(v.frameCount).toBe(pack.frames);
    expect([v.width, v.height]).toEqual([pack.width, pack.height]);
    expect(v.duration).toBeCloseTo(pack.frames / pack.fps, 2);
    // The GPU memory counter (result meta → technical details): a nonzero peak, split by owner and phase.
    await expect(page.locator('dd[data-field="GPU memory"]')).toHaveText(/^peak [1-9][\d.]* [KMG]?B \(ORT [1-9][\d.]* [KMG]?B, kernels [1-9][\d.]* [KMG]?B\); by phase: load [1-9].*, base video [1-9]/);
    await page.screenshot({ path: `${ARTIFACTS}/app-done-1280x800.png`, fullPage: true });
    await page.setViewportSize({ width: 390, height: 844 });
    await page.screenshot({ path: `${ARTIFACTS}/app-done-390x844.png`, fullPage: true });
    await page.setViewportSize({ width: 1280, height: 800 });

    // Cancel mid-run: back to idle, no error, no new result — the last finished video stays in the player.
    const finished = await u.download.getAttribute('href');
    await u.prompt.fill('a sailing boat in a storm');
    await u.seed.fill('5');
    await u.steps.fill('50');
    await u.generate.click();
    await waitForProgress(page, /Denoising: step [1-9]/);
    await u.cancel.click();
    await expect(u.progress).toHaveCount(0);
    await expect(u.cancel).toBeDisabled();
    await expect(u.generate).toBeEnabled();
    await expect(u.alert).toHaveCount(0);
    await expect(u.download).toHaveAttribute('href', finished!);

    // The next generations work, and the cancelled run left nothing behind: seed 42 again gives the
    // very same frames, seed 43 different ones.
    await u.prompt.fill('a panda playing guitar by a lake');
    await generate(page, '42', FAST_STEPS);
    await decodeDownload(page, 'b');
    // This third run (the device's speed is known from the two before) also checks the whole-job ETA
    // (text encoding, the step, decoding, video encoding).
    await u.seed.fill('43');
    await recordEta(page, '[download="lavie-seed43.mp4"]');
    await u.generate.click();
    await waitForResult(page, '43');
    await expectEtaAt25Within(page, ETA_FACTOR);
    await decodeDownload(page, 'c');
    const same = await compareKept(page, 'a', 'b');
    const other = await compareKept(page, 'a', 'c');
    console.log({ same, other });
    expect(same.maxAbs).toBe(0);
    expect(other.meanAbs).toBeGreaterThan(1);
  });

  // Last on this page: it replaces the engine (a new GPU device, the pack's sessions created again).
  // @slow (CI runs it beside option 4, after npm test): 1.6 min of npm test's budget. In npm test, the
  // host's rebuild after a GPU failure is tests/workers/engine-host.test.ts's, and an error after load
  // reaching the UI tests/app/worker-client.test.ts's.
  test('@slow GPU device lost mid-generation: a typed, recoverable error; the engine is rebuilt on a new device and the next generation works', async () => {
    await waitForPack(page);
    const u = ui(page);
    await stageOptions(page, {});
    await u.prompt.fill('a city at night');
    await u.steps.fill('20');
    await u.generate.click();
    await waitForProgress(page, /Denoising: step [1-9]/);
    // Fault injection: destroy the worker's GPUDevice (what a driver reset does to the page).
    const worker = page.workers()[0]!;
    const before = await worker.evaluateHandle(() => (globalThis as { __lavieGpuDevice?: GPUDevice }).__lavieGpuDevice);
    expect(await before.evaluate((d) => { d?.destroy(); return !!d; })).toBe(true);
    await expect(u.alert).toBeVisible({ timeout: 5 * 60_000 });
    await expect(u.alert).toHaveAttribute('data-code', 'device-lost');
    await expect(u.alert.locator('.hint')).toContainText('loaded again on the graphics card');
    await u.alert.getByRole('button', { name: 'Dismiss' }).click();
    await generate(page, '77', FAST_STEPS);
    expect((await decodeDownload(page)).frameCount).toBe((await packVideoFacts(page)).frames);
    // A second device really was created.
    expect(await worker.evaluate((old) => { const d = (globalThis as { __lavieGpuDevice?: GPUDevice }).__lavieGpuDevice; return !!d && d !== old; }, before)).toBe(true);
  });
});
