// The real app on the real engine (WebGPU on SwiftShader): waiting for the pack, a result or a
// progress text, failing at once with the app's error when it shows one instead.
import { expect, type Page } from '@playwright/test';
import { appLocators } from './pages.ts';

export const GENERATION_TIMEOUT = 20 * 60_000;
export const FAST_STEPS = process.env.LAVIE_E2E_STEPS ?? '1';

const ui = appLocators;

/** Wait until the pack is loaded; if the app shows an error instead, fail with it. */
export async function waitForPack(page: Page): Promise<void> {
  const u = ui(page);
  const loaded = u.model.locator('dt:text-is("Pack")');
  await expect(loaded.or(u.alert)).toBeVisible({ timeout: GENERATION_TIMEOUT });
  if (await u.alert.isVisible()) {
    throw new Error(`the app could not load the demo pack: [${await u.alert.getAttribute('data-code')}] ${await u.alert.locator('.message').innerText()}`);
  }
}

/** Wait for the result; if the app shows an error instead, fail with it. */
export async function waitForResult(page: Page, seed: string, timeout = GENERATION_TIMEOUT): Promise<void> {
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
export async function waitForProgress(page: Page, re: RegExp, timeout = GENERATION_TIMEOUT): Promise<void> {
  const state = () => page.evaluate(() => {
    const alert = document.querySelector('[role="alert"]');
    if (alert) return { alert: `[${alert.getAttribute('data-code')}] ${alert.querySelector('.message')?.textContent ?? alert.textContent}` };
    return { progress: document.querySelector('[role="progressbar"]')?.getAttribute('aria-valuetext') ?? '' };
  });
  await expect.poll(async () => { const s = await state(); return 'alert' in s || re.test(s.progress); }, { timeout, intervals: [250, 500, 1000] }).toBe(true);
  const s = await state();
  if ('alert' in s) throw new Error(`generation failed while waiting for progress ${re}: ${s.alert}`);
}

export async function generate(page: Page, seed: string, steps?: string): Promise<void> {
  const u = ui(page);
  await u.seed.fill(seed);
  if (steps) await u.steps.fill(steps);
  await u.generate.click();
  await waitForResult(page, seed);
}

/** Tick exactly the asked-for later stages (the page is shared: a previous test may have ticked others). */
export async function stageOptions(page: Page, o: { smoother?: boolean; hires?: boolean }): Promise<void> {
  await page.getByRole('checkbox', { name: /Smoother/ }).setChecked(!!o.smoother);
  await page.getByRole('checkbox', { name: /High resolution/ }).setChecked(!!o.hires);
}
