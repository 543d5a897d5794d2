// Without WebGPU (Chromium launched without --enable-unsafe-webgpu: no adapter on this machine) the
// app falls back to onnxruntime-web's wasm backend, says so, and still makes the video.
import { expect, test } from '@playwright/test';
import { NO_WEBGPU_LAUNCH } from '../playwright.config.ts';
import { decodeDownload, packVideoFacts, showAdvanced } from './support/pages.ts';

// These specs inject test helpers (an inline script that decodes the MP4) into the app page, which the
// app's CSP rightly refuses; delivery.spec and embed.spec run under the real CSP.
test.use({ bypassCSP: true });

test.use({ launchOptions: NO_WEBGPU_LAUNCH });

test('no WebGPU adapter → the wasm fallback generates the MP4', async ({ page }) => {
  test.setTimeout(10 * 60_000);
  await showAdvanced(page);
  await page.goto('/');
  expect(await page.evaluate(async () => (navigator.gpu ? await navigator.gpu.requestAdapter() : null) === null)).toBe(true);
  const model = page.getByRole('region', { name: 'Model' });
  await expect(model.locator('dd[data-field="Compute"]')).toHaveText('wasm · fp32 compute', { timeout: 5 * 60_000 });
  const pack = await packVideoFacts(page);
  await page.getByLabel('Prompt', { exact: true }).fill('a snowy mountain');
  await page.getByLabel('Steps', { exact: true }).fill('2');
  await page.getByLabel('Seed', { exact: true }).fill('9');
  await page.getByRole('button', { name: 'Generate', exact: true }).click();
  await expect(page.locator('[download="lavie-seed9.mp4"]').or(page.getByRole('alert'))).toBeVisible({ timeout: 5 * 60_000 });
  await expect(page.getByRole('alert')).toHaveCount(0);
  const v = await decodeDownload(page);
  expect(v.frameCount).toBe(pack.frames);
});
