// LaVie option 4 on the real engine (base → interpolation → super-resolution), on the built-in tiny
// demo pack, WebGPU on SwiftShader: 12-17 min here, so @slow (CI runs it after npm test). Its own spec
// file so that CI's second Playwright worker runs the other @slow tests beside it.
import { expect, test } from '@playwright/test';
import { expectEtaAt25Within, recordEta } from './support/eta.ts';
import { ARTIFACTS, decodeDownload, expectOption4Result, packVideoFacts, reportLostFiles, showAdvanced, appLocators, watchLostFiles } from './support/pages.ts';
import { FAST_STEPS, GENERATION_TIMEOUT, stageOptions, waitForPack, waitForProgress, waitForResult } from './support/real-app.ts';

// The page's test helpers (an inline script that decodes the MP4) need the CSP bypassed, as in app.spec.ts.
test.use({ bypassCSP: true });

const ui = appLocators;

/**
 * Issue 17's "ETA at 25 %" (app.spec.ts: within 2.5× on a warm page) for option 4 on a fresh page, where every stage runs for the first time on the device: the
 * estimate has no cost for a stage's first use (its sessions created, its GPU pipelines compiled), and
 * the base stage's one cold step inflates the UNet rate the later stages are scaled by. Measured
 * 2026-12-03: a Smoother run on a warm page at 25 % showed "ETA ≥ 1:26" with 3:25–6:40 left (0.22–0.38×,
 * a stalled phase's lower bound); an estimator that added a first-use cost (reverted) showed 5.4× too
 * much on option 4. Stated factor 5× either way, or a stalled phase's lower bound (which it must be).
 */
const ETA_FACTOR_FIRST_USE = 5;

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
