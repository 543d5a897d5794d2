// The real app, worker host, video encoder and MP4 — with a fake engine (tests/support/fake-engine.ts)
// in place of model inference, so the whole UI flow is checked in seconds and without weights.
import { expect, test } from '@playwright/test';
import { LIMITS, PROMPT_TEXT_TOKENS } from '../src/protocol/request.ts';
import { ARTIFACTS, compareKept, decodeDownload, expectOption4Result, openFake, packVideoFacts, showAdvanced, appLocators } from './support/pages.ts';

// These specs inject test helpers (an inline script that decodes the MP4) into the app page, which the
// app's CSP rightly refuses; delivery.spec and embed.spec run under the real CSP.
test.use({ bypassCSP: true });
test.beforeEach(({ page }) => showAdvanced(page));

const ui = appLocators;

test.describe('app UI with a fake engine', () => {
  test('GPU memory setting: before a run the form says whether the option fits and what to pick instead', async ({ page }) => {
    await openFake(page, 'interp=1');
    const fit = page.locator('.memory-fit');
    await expect(fit).toHaveCount(0); // no setting, no verdict
    await page.getByLabel('GPU memory', { exact: true }).selectOption('4');
    await expect(fit).toHaveAttribute('data-fits', 'true');
    await page.getByRole('checkbox', { name: /Smoother/ }).check();
    await expect(fit).toHaveAttribute('data-fits', 'false');
    await expect(fit).toContainText('Needs about 5.0 GB of GPU memory, more than 4 GB: choose LaVie option 1 (base video, about 3.0 GB) instead.');
    await page.getByLabel('GPU memory', { exact: true }).selectOption('8');
    await expect(fit).toHaveAttribute('data-fits', 'true');
  });

  test('controls, pack panel and defaults', async ({ page }) => {
    await openFake(page);
    const u = ui(page);
    await expect(u.model).toContainText('12.3 MB');
    await expect(page.getByRole('banner').getByText('Test weights: output is noise')).toBeVisible();
    expect(await packVideoFacts(page)).toEqual({ frames: 16, width: 128, height: 80, fps: 8 });
    // Pack defaults fill untouched fields.
    await expect(u.steps).toHaveValue('6');
    await expect(u.guidance).toHaveValue('7.5');
    await expect(u.sampler).toHaveValue('ddim');
    await expect(u.sampler.locator('option')).toHaveText(['ddpm', 'ddim', 'euler', 'dpm++2m']);
    // The inputs' bounds are the request contract's.
    for (const [input, lim] of [[u.seed, LIMITS.seed], [u.steps, LIMITS.steps], [u.guidance, LIMITS.guidanceScale]] as const) {
      for (const k of ['min', 'max', 'step'] as const) await expect(input).toHaveAttribute(k, String(lim[k]));
    }
    await expect(u.prompt).toHaveAttribute('maxlength', String(LIMITS.promptChars));
    for (const l of [u.prompt, u.negative, u.seed]) await expect(l).toBeEditable();
    const seed = await u.seed.inputValue();
    expect(Number(seed)).toBeGreaterThanOrEqual(0);
    await u.random.click();
    await expect(u.seed).not.toHaveValue(seed);
    await expect(u.generate).toBeEnabled();
    await expect(u.cancel).toBeDisabled();
    await expect(u.alert).toHaveCount(0);
  });

  test('the prompt shows how many CLIP tokens it uses, and says when the rest is cut', async ({ page }) => {
    await openFake(page);
    const u = ui(page);
    const count = page.locator('.token-count');
    await expect(u.model).toContainText('fake-test-pack');
    await u.prompt.fill('a red fox');
    await expect(count).toHaveText(`3 of ${PROMPT_TEXT_TOKENS} tokens`);
    await u.prompt.fill(Array.from({ length: PROMPT_TEXT_TOKENS + 5 }, (_, i) => `w${i}`).join(' '));
    await expect(count).toHaveText(`${PROMPT_TEXT_TOKENS + 5} tokens: only the first ${PROMPT_TEXT_TOKENS} are used, the rest of the prompt is cut.`);
    await expect(count).toHaveClass(/over/);
  });

  test('prompt → progress, preview → video + Download MP4 that demuxes to 16 frames, 2 s', async ({ page }) => {
    await openFake(page, 'stepMs=500'); // slow enough that a loaded machine still sees the denoising phase
    const u = ui(page);
    await u.prompt.fill('a red fox running through snow');
    await u.negative.fill('blurry');
    await u.seed.fill('1234');
    await u.steps.fill('8');
    await u.sampler.selectOption('euler');
    // Every progress text the page shows, recorded as it changes: the phases are checked afterwards,
    // however fast or slow this machine runs through them.
    await page.evaluate(() => {
      const seen: string[] = [];
      (window as unknown as { progressSeen: string[] }).progressSeen = seen;
      const note = () => {
        for (const t of [document.querySelector('[aria-label="Generation progress"]')?.getAttribute('aria-valuetext'), document.querySelector('.progress-text')?.textContent]) if (t && !seen.includes(t)) seen.push(t);
      };
      new MutationObserver(note).observe(document.body, { subtree: true, childList: true, characterData: true, attributes: true, attributeFilter: ['aria-valuetext'] });
    });
    await u.generate.click();
    await expect(u.progress).toBeVisible();
    await expect(u.generate).toBeDisabled();
    await expect(u.cancel).toBeEnabled();
    const now = Number(await u.progress.getAttribute('aria-valuenow'));
    expect(now).toBeGreaterThanOrEqual(0);
    expect(now).toBeLessThanOrEqual(100);
    await expect(page.getByRole('img', { name: /Live preview at step \d/ })).toBeVisible();
    await page.screenshot({ path: `${ARTIFACTS}/ui-fake-generating-1280x800.png` });
    await expect(u.download).toBeVisible({ timeout: 60_000 });
    await expect(u.progress).toHaveCount(0);
    const seen = await page.evaluate(() => (window as unknown as { progressSeen: string[] }).progressSeen);
    expect(seen.some((t) => /^Denoising: step [1-8] of 8, /.test(t)), seen.join(' | ')).toBe(true);
    expect(seen.some((t) => /ETA \d+:\d\d$/.test(t)), seen.join(' | ')).toBe(true);
    await expect(u.download).toHaveAttribute('href', /^blob:/);
    await expect(u.download).toHaveAttribute('download', 'lavie-seed1234.mp4');
    expect(await u.video.getAttribute('src')).toBe(await u.download.getAttribute('href'));
    await expect(u.video).toHaveJSProperty('readyState', 4, { timeout: 10_000 }).catch(async () => {
      // Headless Chromium may not buffer a looping video fully; it must at least have metadata.
      expect(await u.video.evaluate((v: HTMLVideoElement) => v.readyState)).toBeGreaterThanOrEqual(1);
    });
    expect(await u.video.evaluate((v: HTMLVideoElement) => ({ w: v.videoWidth, h: v.videoHeight, d: v.duration }))).toEqual({ w: 128, h: 80, d: 2 });
    await expect(page.locator('.result .result-line')).toContainText('16 frames · 2 s');
    await expect(page.locator('.result dd[data-field="Size"]')).toHaveText('128×80 · 8 fps');
    await expect(page.locator('.result dd[data-field="Codec"]')).toHaveText(/^avc1\.42/);
    const v = await decodeDownload(page);
    expect(v.blobType).toBe('video/mp4');
    expect(v.frameCount).toBe(16);
    expect([v.width, v.height]).toEqual([128, 80]);
    expect(v.duration).toBeCloseTo(2, 2);
    await page.screenshot({ path: `${ARTIFACTS}/ui-fake-done-1280x800.png`, fullPage: true });
  });

  test('same seed → identical frames, other seed → different', async ({ page }) => {
    await openFake(page, 'stepMs=10');
    const u = ui(page);
    await u.prompt.fill('waves');
    const run = async (seed: string, keep: string) => {
      await u.seed.fill(seed);
      await u.generate.click();
      await expect(u.download).toHaveAttribute('download', `lavie-seed${seed}.mp4`, { timeout: 60_000 });
      return decodeDownload(page, keep);
    };
    const a = await run('7', 'a');
    const b = await run('7', 'b');
    const c = await run('8', 'c');
    expect(b.frameHashes).toEqual(a.frameHashes);
    expect(c.frameHashes).not.toEqual(a.frameHashes);
    expect((await compareKept(page, 'a', 'b')).maxAbs).toBe(0);
    expect((await compareKept(page, 'a', 'c')).meanAbs).toBeGreaterThan(5);
  });

  test('Cancel mid-run returns to idle; the next generation works', async ({ page }) => {
    await openFake(page, 'stepMs=400');
    const u = ui(page);
    await u.prompt.fill('a slow sunset');
    await u.steps.fill('30');
    await u.generate.click();
    await expect(u.progress).toHaveAttribute('aria-valuetext', /Denoising: step [2-9]/);
    await u.cancel.click();
    await expect(u.progress).toHaveCount(0);
    await expect(u.cancel).toBeDisabled();
    await expect(u.generate).toBeEnabled();
    await expect(u.alert).toHaveCount(0);
    await expect(u.download).toHaveCount(0);
    await expect(page.getByText('Your video appears here.')).toBeVisible();
    await u.steps.fill('3');
    await u.generate.click();
    await expect(u.download).toBeVisible({ timeout: 60_000 });
    expect((await decodeDownload(page)).frameCount).toBe(16);
  });

  // The app's side of LaVie option 4 (the real engine runs it in the @slow test of app.spec.ts, on
  // onnxruntime-node in tests/engine/vsr.test.ts): three stages, each earlier video offered while
  // the next runs, the final one 61 frames at 24 fps and 4× the base size.
  test('all three stages (option 4): the estimate, the base and interpolated videos offered, then 61 frames at 4× the size', async ({ page }) => {
    await openFake(page, 'interp=1&vsr=1&stepMs=10&width=32&height=32'); // small frames: 61 of them at 4× are encoded and decoded
    const u = ui(page);
    await expect(u.generate).toBeEnabled();
    const pack = await packVideoFacts(page);
    await page.getByRole('checkbox', { name: /Smoother/ }).check();
    await page.getByRole('checkbox', { name: /High resolution/ }).check();
    await expect(page.getByRole('note', { name: 'Super-resolution estimate' })).toContainText(/8 windows × 1 tile × 1 step/);
    await u.prompt.fill('a hot air balloon over hills');
    await u.seed.fill('22');
    await u.steps.fill('2');
    await u.generate.click();
    await expect(u.download.and(page.locator('[download="lavie-seed22-vsr.mp4"]')).or(u.alert)).toBeVisible({ timeout: 60_000 });
    await expect(u.alert).toHaveCount(0);
    await expectOption4Result(page, pack);
  });

  test('Smoother: Cancel during the interpolation stage keeps the base video in the player', async ({ page }) => {
    await openFake(page, 'interp=1&stepMs=100&frameMs=150'); // the fake's interpolation stage: 61 frames × 150 ms
    const u = ui(page);
    await expect(u.generate).toBeEnabled();
    await page.getByRole('checkbox', { name: /Smoother/ }).check();
    await u.prompt.fill('a river flowing through a forest');
    await u.seed.fill('12');
    await u.steps.fill('3');
    await u.generate.click();
    await expect(u.progress).toHaveAttribute('aria-valuetext', /Stage 2 of 2 \(Interpolation\)/, { timeout: 60_000 });
    await u.cancel.click();
    await expect(u.progress).toHaveCount(0);
    await expect(u.generate).toBeEnabled();
    await expect(u.alert).toHaveCount(0);
    await expect(page.locator('[download="lavie-seed12.mp4"]')).toBeVisible();
    expect((await decodeDownload(page)).frameCount).toBe(16);
  });

  test('finished videos are kept in the history across a reload; play, reuse settings, delete', async ({ page }) => {
    await openFake(page, 'stepMs=10');
    const u = ui(page);
    const history = page.getByRole('region', { name: 'History' });
    await expect(history).toHaveCount(0);
    await u.prompt.fill('a lighthouse in a storm');
    await u.seed.fill('31');
    await u.steps.fill('3');
    await u.sampler.selectOption('euler');
    await u.generate.click();
    await expect(u.download).toHaveAttribute('download', 'lavie-seed31.mp4', { timeout: 60_000 });
    const entry = history.getByRole('listitem', { name: 'Saved video: a lighthouse in a storm' });
    await expect(entry).toContainText('seed 31 · euler 3 steps');
    // A reload (or a crash) loses nothing: the saved video and its settings come back.
    await page.reload();
    await expect(entry).toBeVisible();
    await expect(u.download).toHaveCount(0);
    await entry.getByRole('button', { name: 'Play' }).click();
    await expect(u.download).toHaveAttribute('download', 'lavie-seed31.mp4');
    expect((await decodeDownload(page)).frameCount).toBe(16);
    await u.prompt.fill('something else');
    await entry.getByRole('button', { name: 'Use settings' }).click();
    await expect(u.prompt).toHaveValue('a lighthouse in a storm');
    await expect(u.seed).toHaveValue('31');
    await expect(u.steps).toHaveValue('3');
    await expect(u.sampler).toHaveValue('euler');
    await entry.getByRole('button', { name: 'Delete' }).click();
    await expect(history).toHaveCount(0);
    await page.reload();
    await expect(u.model).toContainText('fake-test-pack');
    await expect(history).toHaveCount(0);
  });

  test('engine errors show a typed message with what to do next', async ({ page }) => {
    await openFake(page, 'fail=gpu-oom&failAt=2');
    const u = ui(page);
    await u.prompt.fill('anything');
    await u.generate.click();
    await expect(u.alert).toBeVisible();
    await expect(u.alert).toHaveAttribute('data-code', 'gpu-oom');
    await expect(u.alert).toContainText('The graphics card ran out of memory');
    await expect(u.alert).toContainText('Close other tabs and apps that use the graphics card');
    await expect(u.progress).toHaveCount(0);
    await expect(u.generate).toBeEnabled();
    await u.alert.getByRole('button', { name: 'Dismiss' }).click();
    await expect(u.alert).toHaveCount(0);
  });

  test('out of GPU memory mid-generation: the engine is rebuilt, and the next generation works', async ({ page }) => {
    // The first engine fails at step 2 and stays broken (failEngines=1): only a recreated engine succeeds.
    await openFake(page, 'fail=gpu-oom&failAt=2&failEngines=1&stepMs=10');
    const u = ui(page);
    await u.prompt.fill('anything');
    await u.steps.fill('3');
    await u.generate.click();
    await expect(u.alert).toHaveAttribute('data-code', 'gpu-oom');
    await u.alert.getByRole('button', { name: 'Dismiss' }).click();
    await u.generate.click();
    await expect(u.download).toBeVisible({ timeout: 60_000 });
    await expect(u.alert).toHaveCount(0);
  });

  test('an unknown engine failure maps to internal', async ({ page }) => {
    await openFake(page, 'fail=internal&failAt=1');
    const u = ui(page);
    await u.prompt.fill('anything');
    await u.generate.click();
    await expect(u.alert).toHaveAttribute('data-code', 'internal');
    await expect(u.alert).toContainText('fake engine: something unexpected');
  });

  test('a failed load shows the error and offers the right action', async ({ page }) => {
    await openFake(page, 'loadFail=no-webgpu', { waitForPack: false });
    const u = ui(page);
    await expect(u.alert).toHaveAttribute('data-code', 'no-webgpu');
    await expect(u.alert).toContainText('This browser cannot run the model on the graphics card');
    await expect(u.alert).toContainText('recent Chrome or Edge');
    await expect(u.alert.getByRole('button', { name: 'Reload page' })).toBeVisible();
    await expect(u.model).toContainText('No model loaded');
  });

  test('a recoverable load failure can be retried', async ({ page }) => {
    await openFake(page, 'loadFail=pack-download', { waitForPack: false });
    const u = ui(page);
    await expect(u.alert).toHaveAttribute('data-code', 'pack-download');
    await expect(u.alert.getByRole('button', { name: 'Try loading again' })).toBeVisible();
    await expect(u.alert.getByRole('button', { name: 'Dismiss' })).toBeVisible();
  });

  test('layout on a phone (390×844)', async ({ page }) => {
    await page.setViewportSize({ width: 390, height: 844 });
    await openFake(page, 'stepMs=10');
    const u = ui(page);
    await u.prompt.fill('a lighthouse in a storm');
    await u.generate.click();
    await expect(u.download).toBeVisible({ timeout: 60_000 });
    // Nothing wider than the screen.
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    for (const l of [u.prompt, u.seed, u.generate, u.download]) {
      const box = (await l.boundingBox())!;
      expect(box.x).toBeGreaterThanOrEqual(0);
      expect(box.x + box.width).toBeLessThanOrEqual(390);
    }
    await page.screenshot({ path: `${ARTIFACTS}/ui-fake-done-390x844.png`, fullPage: true });
  });
});
