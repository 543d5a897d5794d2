// The real app with the real engine on the built-in tiny demo pack (test weights: output is noise),
// WebGPU on SwiftShader — slow, so one denoising step, generous timeouts, and one page for all the
// checks: on SwiftShader loading the pack and compiling its WGSL pipelines cost more than a
// generation, so the tests below share one load (serial: each leaves the page idle for the next).
import { expect, test, type Page } from '@playwright/test';
import { PROMPT_TEXT_TOKENS } from '../src/protocol/request.ts';
import { expectEtaAt25Within, recordEta } from './support/eta.ts';
import { ARTIFACTS, compareKept, decodeDownload, expectOption4Result, opfsListing, packVideoFacts, reportLostFiles, showAdvanced, appLocators, watchLostFiles } from './support/pages.ts';

// These specs inject test helpers (an inline script that decodes the MP4) into the app page, which the
// app's CSP rightly refuses; delivery.spec and embed.spec run under the real CSP.
test.use({ bypassCSP: true });

const GENERATION_TIMEOUT = 20 * 60_000;
const FAST_STEPS = process.env.LAVIE_E2E_STEPS ?? '1';

const ui = appLocators;

// Issue 17's "ETA at 25 %" on the real engine: the whole-job ETA shown at 25 % of a run's time is
// within 2.5× (either way: 0.4×–2.5×) of the time the run actually had left. Measured 2026-12-03 on
// SwiftShader beside a training run, seed 43's run below: 1.29 (shown 0:37, 29 s left), 0.80
// (0:24, 30 s left), 0.88 (0:27, 31 s left). 2.5× leaves room for the machine's load changing mid-run; an ETA of 0:00, or one
// 3× off, fails.
const ETA_FACTOR = 2.5;
/**
 * The same for option 4 on a fresh page, where every stage runs for the first time on the device: the
 * estimate has no cost for a stage's first use (its sessions created, its GPU pipelines compiled), and
 * the base stage's one cold step inflates the UNet rate the later stages are scaled by. Measured
 * 2026-12-03: a Smoother run on a warm page at 25 % showed "ETA ≥ 1:26" with 3:25–6:40 left (0.22–0.38×,
 * a stalled phase's lower bound); an estimator that added a first-use cost (reverted) showed 5.4× too
 * much on option 4. Stated factor 5× either way, or a stalled phase's lower bound (which it must be).
 */
const ETA_FACTOR_FIRST_USE = 5;

/** Wait until the pack is loaded; if the app shows an error instead, fail with it. */
async function waitForPack(page: Page): Promise<void> {
  const u = ui(page);
  const loaded = u.model.locator('dt:text-is("Pack")');
  await expect(loaded.or(u.alert)).toBeVisible({ timeout: GENERATION_TIMEOUT });
  if (await u.alert.isVisible()) {
    throw new Error(`the app could not load the demo pack: [${await u.alert.getAttribute('data-code')}] ${await u.alert.locator('.message').innerText()}`);
  }
}

/** Wait for the result; if the app shows an error instead, fail with it. */
async function waitForResult(page: Page, seed: string, timeout = GENERATION_TIMEOUT): Promise<void> {
  const u = ui(page);
  const done = u.download.and(page.locator(`[download="lavie-seed${seed}.mp4"]`));
  await expect(done.or(u.alert)).toBeVisible({ timeout });
  if (await u.alert.isVisible()) {
    throw new Error(`generation failed: [${await u.alert.getAttribute('data-code')}] ${await u.alert.locator('.message').innerText()}`);
  }
}

/**
 * Wait until the progress bar's text matches `re`; if the app shows an error instead, fail with it at
 * once (a failed run has no progress bar: waiting for one alone idles until the timeout).
 */
async function waitForProgress(page: Page, re: RegExp, timeout = GENERATION_TIMEOUT): Promise<void> {
  const state = () => page.evaluate(() => {
    const alert = document.querySelector('[role="alert"]');
    if (alert) return { alert: `[${alert.getAttribute('data-code')}] ${alert.querySelector('.message')?.textContent ?? alert.textContent}` };
    return { progress: document.querySelector('[role="progressbar"]')?.getAttribute('aria-valuetext') ?? '' };
  });
  await expect.poll(async () => { const s = await state(); return 'alert' in s || re.test(s.progress); }, { timeout, intervals: [250, 500, 1000] }).toBe(true);
  const s = await state();
  if ('alert' in s) throw new Error(`generation failed while waiting for progress ${re}: ${s.alert}`);
}

async function generate(page: Page, seed: string, steps?: string): Promise<void> {
  const u = ui(page);
  await u.seed.fill(seed);
  if (steps) await u.steps.fill(steps);
  await u.generate.click();
  await waitForResult(page, seed);
}

/** Tick exactly the asked-for later stages (the page is shared: a previous test may have ticked others). */
async function stageOptions(page: Page, o: { smoother?: boolean; hires?: boolean }): Promise<void> {
  await page.getByRole('checkbox', { name: /Smoother/ }).setChecked(!!o.smoother);
  await page.getByRole('checkbox', { name: /High resolution/ }).setChecked(!!o.hires);
}

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
  test('GPU device lost mid-generation: a typed, recoverable error; the engine is rebuilt on a new device and the next generation works', async () => {
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

// The later stages on the real engine, run by `--grep @slow` (npm test's budget cannot pay for them on
// SwiftShader): one run of LaVie option 4, on its own page, checks what options 2 and 3 show too (the
// base video offered while the later stages run, 61 frames at 24 fps, 4× the base size; option 3's
// estimate). Each option's engine path is also run in Node (tests/engine/cancel-then-next.test.ts:
// options 2 and 3; tests/engine/engine.test.ts). Earlier, option 4 run after option 3 on one page failed
// at its first read of a VSR file: the demo pack's OPFS folder had been emptied (every file,
// manifest.json and info.json gone; cause not found). The engine now downloads a lost file again
// (reported by reportLostFiles as an annotation).
test('@slow all three stages (LaVie option 4): the estimates first; the base video while the later stages run; 61 frames at 24 fps and 4× the base size', async ({ page }) => {
  test.setTimeout(90 * 60_000);
  const lost = watchLostFiles(page);
  await showAdvanced(page);
  await page.goto('/');
  await waitForPack(page);
  const u = ui(page);
  const pack = await packVideoFacts(page);
  // Option 3's estimate (16 frames: 2 windows), then option 4's (61 frames: 8 windows).
  await stageOptions(page, { hires: true });
  await expect(page.getByRole('note', { name: 'Super-resolution estimate' })).toContainText(/2 windows × \d+ tiles? × \d+ steps?/);
  await stageOptions(page, { smoother: true, hires: true });
  await expect(page.getByRole('note', { name: 'Super-resolution estimate' })).toContainText(/8 windows/);
  await u.prompt.fill('a hot air balloon over hills');
  await u.steps.fill(FAST_STEPS);
  await u.seed.fill('22');
  await recordEta(page, '[download="lavie-seed22-vsr.mp4"]');
  await u.generate.click();
  // The base video is offered while the interpolation runs.
  await expect(page.locator('[download="lavie-seed22.mp4"]').or(u.alert)).toBeVisible({ timeout: GENERATION_TIMEOUT });
  await expect(u.alert).toHaveCount(0);
  await waitForProgress(page, /Stage 2 of 3 \(Interpolation\)/);
  expect((await decodeDownload(page)).frameCount).toBe(16);
  // Base + interpolation + 8 VSR windows: 12 min on one 2-core machine, 20+ on another.
  await waitForResult(page, '22-vsr', 80 * 60_000);
  // The whole-job ETA at 25 % of the run, every stage running for the first time on this page (see
  // ETA_FACTOR_FIRST_USE).
  await expectEtaAt25Within(page, ETA_FACTOR_FIRST_USE, { stalledIsLowerBound: true });
  await expectOption4Result(page, pack);
  await page.screenshot({ path: `${ARTIFACTS}/app-vsr-done-1280x800.png`, fullPage: true });
  reportLostFiles(lost, test.info());
});
