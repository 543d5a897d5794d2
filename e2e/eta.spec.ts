// Issue 17 item 1: one time estimate for the whole job (src/app/eta.ts), shown by the real app with
// the fake engine (tests/support/fake-engine.ts) at controlled timing: the ETA at 25 % against the
// time actually left (e2e/support/eta.ts; app.spec does the same on the real engine), an estimate
// before a run after a reload, a stalled phase that says what it does.
import { expect, test } from '@playwright/test';
import { expectEtaAt25Within, etaRecord, recordEta } from './support/eta.ts';
import { ARTIFACTS, showAdvanced, useFakeEngine } from './support/pages.ts';

test.use({ bypassCSP: true });
test.beforeEach(({ page }) => showAdvanced(page));

test.describe('whole-job time estimate', () => {
  // Stated factor: at 25 % of the run the shown ETA is within 2× of the time actually left (either way).
  const FACTOR = 2;

  // The real engine on the tiny pack is checked the same way (expectEtaAt25Within) in e2e/app.spec.ts,
  // on runs that spec makes anyway; here the fake engine plays a run shaped like the real one — text
  // encoding, a slow first step (shader warm-up), 24 steady steps, per-frame decoding, video
  // encoding — with controlled timing, and the estimate before a run after a reload.
  test('a whole run: the ETA at 25 % is within 2× of the time left, never 0:00 while running; the next visit states the time before a run', async ({ page }) => {
    await useFakeEngine(page);
    // A first step 2x the others (warm-up). Known limit: on a fresh device a much slower first step
    // inflates the early estimate (it is the only sample), e.g. 4x warm-up gave 2x too much at 25 %.
    await page.goto(`/?pack=${encodeURIComponent('fake:?stepMs=400&firstStepMs=800&frameMs=60')}`);
    await expect(page.getByRole('region', { name: 'Model' })).toContainText('fake-test-pack');
    await page.getByLabel('Prompt', { exact: true }).fill('a red ball bouncing');
    await page.getByLabel('Steps', { exact: true }).fill('24');
    await page.getByLabel('Seed', { exact: true }).fill('5');
    await recordEta(page);
    await page.getByRole('button', { name: 'Generate', exact: true }).click();
    await expect(page.getByRole('link', { name: 'Download MP4' })).toBeVisible({ timeout: 60_000 });
    const c = await expectEtaAt25Within(page, FACTOR);
    const { log } = await etaRecord(page);
    // Between the prompt and the first step the bar says the steps are starting (not "Encoding prompt 1/1").
    expect(log.some((s) => s.text.startsWith('Denoisingstarting')), log.map((s) => s.text).join(' | ')).toBe(true);
    // The speed is remembered: after a reload the form states the time before any run.
    await page.reload();
    await expect(page.getByRole('region', { name: 'Model' })).toContainText('fake-test-pack');
    await page.getByLabel('Steps', { exact: true }).fill('24');
    const before = page.locator('.job-estimate');
    await expect(before).toContainText(/Takes about \d+:\d\d on this device/);
    const predicted = Number(await before.getAttribute('data-total-ms'));
    console.log(`predicted before the second run: ${predicted} ms; the first took ${c.total.toFixed(0)} ms`);
    expect(predicted / c.total).toBeLessThan(FACTOR);
    expect(c.total / predicted).toBeLessThan(FACTOR);
    await page.screenshot({ path: `${ARTIFACTS}/eta-before-run-1280x800.png` });
  });

  test('fake engine: estimate before a run on a fresh load, and a stalled phase says what it is doing', async ({ page }) => {
    await useFakeEngine(page);
    // Decoding the last frame hangs for 8 s: far beyond its estimate.
    await page.goto(`/?pack=${encodeURIComponent('fake:?stepMs=200&stallPhase=decode&stallMs=8000')}`);
    await expect(page.getByRole('region', { name: 'Model' })).toContainText('fake-test-pack');
    await expect(page.locator('.job-estimate')).toContainText('A time estimate appears once this device has run this model');
    await page.getByLabel('Prompt', { exact: true }).fill('a slow one');
    await page.getByLabel('Steps', { exact: true }).fill('4');
    await page.getByRole('button', { name: 'Generate', exact: true }).click();
    const progress = page.locator('.output .progress');
    await expect(progress).toHaveAttribute('data-eta-stalled', 'true', { timeout: 20_000 });
    await expect(progress).toContainText('Decoding frames — still at it, longer than expected');
    await expect(page.getByRole('progressbar')).toHaveAttribute('aria-valuetext', /still decoding frames: this takes longer than expected, at least 0:0[1-9] left in all/);
    await page.screenshot({ path: `${ARTIFACTS}/eta-stalled-1280x800.png` });
    await expect(page.getByRole('link', { name: 'Download MP4' })).toBeVisible({ timeout: 30_000 });
    await page.reload();
    await expect(page.getByRole('region', { name: 'Model' })).toContainText('fake-test-pack');
    await expect(page.locator('.job-estimate')).toContainText(/Takes about \d+:\d\d on this device/);
  });
});
