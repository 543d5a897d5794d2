// Issue 17 item 1: one time estimate for the whole job (src/app/eta.ts), shown by the real app with
// the fake engine (tests/support/fake-engine.ts) at controlled timing: the ETA at 25 % against the
// time actually left, an estimate before a run after a reload, a stalled phase that says what it does.
import { expect, test, type Page } from '@playwright/test';
import { ARTIFACTS, showAdvanced, useFakeEngine } from './support/pages.ts';

test.use({ bypassCSP: true });
test.beforeEach(({ page }) => showAdvanced(page));

/** Record, in the page, every (time, ETA shown) and when the result appears. Call before Generate. */
async function recordEta(page: Page): Promise<void> {
  await page.evaluate(() => {
    const w = window as unknown as { etaLog: { t: number; eta: number | null; text: string }[]; doneAt: number | null };
    w.etaLog = [];
    w.doneAt = null;
    const note = () => {
      const p = document.querySelector<HTMLElement>('.output .progress');
      if (p) {
        const eta = p.dataset.etaMs === undefined ? null : Number(p.dataset.etaMs);
        const text = p.querySelector('.progress-text')?.textContent ?? '';
        const last = w.etaLog.at(-1);
        if (!last || last.eta !== eta || last.text !== text) w.etaLog.push({ t: performance.now(), eta, text });
      }
      if (w.doneAt === null && document.querySelector('a[download]')) w.doneAt = performance.now();
    };
    new MutationObserver(note).observe(document.body, { subtree: true, childList: true, characterData: true, attributes: true });
  });
}

const etaLog = (page: Page) => page.evaluate(() => {
  const w = window as unknown as { etaLog: { t: number; eta: number | null; text: string }[]; doneAt: number | null };
  return { etaLog: w.etaLog, doneAt: w.doneAt };
});

/** The ETA shown at ~25 % of the run against the time the run actually had left then. */
function at25(log: { t: number; eta: number | null; text: string }[], doneAt: number) {
  const start = log[0]!.t;
  const t25 = start + 0.25 * (doneAt - start);
  const sample = [...log].reverse().find((s) => s.t <= t25 && s.eta !== null);
  return sample ? { shown: sample.eta!, left: doneAt - sample.t, total: doneAt - start, text: sample.text } : null;
}

test.describe('whole-job time estimate', () => {
  // Stated factor: at 25 % of the run the shown ETA is within 2× of the time actually left (either way).
  const FACTOR = 2;

  // The real engine on the tiny pack would be the natural subject, but on this machine's SwiftShader
  // (2 cores under heavy load) its first step alone took over 8 minutes: the fake engine plays a run
  // shaped like the real one instead — text encoding, a slow first step (shader warm-up), steady
  // steps, per-frame decoding, video encoding — with controlled timing.
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
    const { etaLog: log, doneAt } = await etaLog(page);
    const c = at25(log, doneAt!);
    console.log('ETA at 25 %:', c, `samples: ${log.length}`);
    expect(c, log.map((s) => `${Math.round(s.t)} ${s.eta} ${s.text}`).join('\n')).not.toBeNull();
    expect(c!.shown / c!.left).toBeLessThan(FACTOR);
    expect(c!.left / c!.shown).toBeLessThan(FACTOR);
    for (const s of log) expect(s.text).not.toMatch(/ETA 0:00/);
    // Between the prompt and the first step the bar says the steps are starting (not "Encoding prompt 1/1").
    expect(log.some((s) => s.text.startsWith('Denoisingstarting')), log.map((s) => s.text).join(' | ')).toBe(true);
    // The speed is remembered: after a reload the form states the time before any run.
    await page.reload();
    await expect(page.getByRole('region', { name: 'Model' })).toContainText('fake-test-pack');
    await page.getByLabel('Steps', { exact: true }).fill('24');
    const before = page.locator('.job-estimate');
    await expect(before).toContainText(/Takes about \d+:\d\d on this device/);
    const predicted = Number(await before.getAttribute('data-total-ms'));
    console.log(`predicted before the second run: ${predicted} ms; the first took ${c!.total.toFixed(0)} ms`);
    expect(predicted / c!.total).toBeLessThan(FACTOR);
    expect(c!.total / predicted).toBeLessThan(FACTOR);
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
