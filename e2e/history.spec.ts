// Issue 17 item 5: History as a gallery (a poster per video, a request's stages grouped, buttons named
// for their video, long prompts clamped) and the queue (several seeds or prompts run in order, each
// saved as it finishes; remove; cancel pauses; one tab's queue is not another's). Fake engine
// (tests/support/fake-engine.ts): cheap.
import { expect, test, type Page } from '@playwright/test';
import { BEAT_MS, STALE_MS } from '../src/app/tab-beat.ts';
import { ARTIFACTS, openFake, showAdvanced, appLocators } from './support/pages.ts';

test.use({ bypassCSP: true });
test.beforeEach(({ page }) => showAdvanced(page));

const ui = appLocators;

/** Seeds of the History entries, top (newest) first. */
const historySeeds = (page: Page) => page.getByRole('region', { name: 'History' }).locator('.history-item .what .small').allInnerTexts().then((t) => t.map((s) => Number(/seed (\d+)/.exec(s)![1])));

/**
 * Queue 'first prompt' (seed 5) with 1000 steps — still running whatever the machine's load when the
 * test acts — then 'second prompt' and 'third prompt', one prompt per line, with `seed` and `steps`.
 * Returns the queue's list once it holds the three.
 */
async function queueLongThenTwo(page: Page, next: { seed: string; steps: string }) {
  const u = ui(page);
  const list = u.queue.getByRole('list', { name: 'Queued videos' });
  await u.prompt.fill('first prompt');
  await u.seed.fill('5');
  await u.steps.fill('1000');
  await u.queue.getByRole('button', { name: 'Add to queue' }).click();
  await expect(list.getByRole('listitem', { name: "'first prompt' (seed 5): Running now" })).toBeVisible();
  await u.prompt.fill('second prompt\nthird prompt');
  await u.seed.fill(next.seed);
  await u.steps.fill(next.steps);
  await u.queue.getByLabel('One prompt per line').check();
  await u.queue.getByRole('button', { name: 'Add to queue' }).click();
  await expect(list.getByRole('listitem')).toHaveCount(3);
  return list;
}

test.describe('History as a gallery', () => {
  test('a request’s stages are one entry with a poster per video and buttons that name their video; long prompts are clamped', async ({ page }) => {
    await openFake(page, 'stepMs=10&interp=1');
    const u = ui(page);
    await u.prompt.fill('a red ball bouncing on a wooden floor');
    await u.seed.fill('11');
    await u.steps.fill('2');
    await page.getByLabel(/Smoother/).check();
    await u.generate.click();
    await expect(u.download).toBeVisible({ timeout: 60_000 });

    const entry = u.history.getByRole('listitem', { name: 'Saved video: a red ball bouncing on a wooden floor' });
    await expect(u.history.locator('.history-item')).toHaveCount(1);
    const videos = entry.getByRole('list', { name: "Videos of 'a red ball bouncing on…'" }).getByRole('listitem');
    await expect(videos).toHaveCount(2);
    for (const stage of ['base video', 'interpolation']) {
      await expect(entry.getByRole('button', { name: `Play 'a red ball bouncing on…' — ${stage}`, exact: true })).toBeVisible();
      await expect(entry.getByRole('button', { name: `Delete 'a red ball bouncing on…' — ${stage}`, exact: true })).toBeVisible();
    }
    await expect(entry.getByRole('button', { name: "Use settings of 'a red ball bouncing on…' (seed 11)", exact: true })).toBeVisible();
    // A poster per video: a decoded still, drawn from the video when it was saved; it survives a reload.
    const posters = entry.locator('.poster img');
    await expect(posters).toHaveCount(2);
    await page.reload();
    await expect(posters).toHaveCount(2);
    for (const img of await posters.all()) {
      await expect.poll(() => img.evaluate((i: HTMLImageElement) => i.complete && i.naturalWidth)).toBeGreaterThan(0);
    }
    // The player plays the chosen stage's video.
    await entry.getByRole('button', { name: "Play 'a red ball bouncing on…' — interpolation" }).click();
    await expect(page.locator('figure.result')).toHaveAttribute('data-stage', 'interp');

    // A long prompt: three lines at most, the whole text in its title and behind a button.
    const long = `a very long prompt ${'with many words about a scene '.repeat(40)}`.trim();
    await page.getByLabel(/Smoother/).uncheck();
    await u.prompt.fill(long);
    await u.generate.click();
    await expect(u.history.locator('.history-item')).toHaveCount(2, { timeout: 60_000 });
    const item = u.history.locator('.history-item').first();
    const text = item.locator('.prompt');
    await expect(text).toHaveAttribute('title', long);
    const clamped = await text.evaluate((el) => ({ shown: el.clientHeight, full: el.scrollHeight, line: parseFloat(getComputedStyle(el).lineHeight) }));
    expect(clamped.full).toBeGreaterThan(clamped.shown);
    expect(clamped.shown).toBeLessThanOrEqual(3 * clamped.line + 1);
    expect((await item.boundingBox())!.height).toBeLessThan(400);
    await item.getByRole('button', { name: 'Show the whole prompt' }).click();
    await expect(item.getByRole('button', { name: 'Show less' })).toHaveAttribute('aria-expanded', 'true');
    expect(await text.evaluate((el) => el.scrollHeight - el.clientHeight)).toBeLessThanOrEqual(1);
    await page.screenshot({ path: `${ARTIFACTS}/history-gallery-1280x800.png`, fullPage: true });
  });
});

test.describe('the queue', () => {
  test('three seeds run one after another, in order, each saved to History as it finishes', async ({ page }) => {
    // 3 steps of 500 ms a video: the test sees History at one entry (at 60 ms two videos were already
    // done by its first look, with ui/ux specs beside it on two workers).
    await openFake(page, 'stepMs=500');
    const u = ui(page);
    await u.prompt.fill('a lighthouse in a storm');
    await u.seed.fill('21');
    await u.steps.fill('3');
    await u.queue.getByLabel('Seeds per prompt').fill('3');
    await u.queue.getByRole('button', { name: 'Add to queue' }).click();
    const items = u.queue.getByRole('list', { name: 'Queued videos' }).getByRole('listitem');
    await expect(items).toHaveCount(3);
    await expect(items.first()).toHaveAttribute('data-status', /running|done/);
    const queuedSeeds = (await items.allInnerTexts()).map((t) => Number(/seed (\d+)/.exec(t)![1]));
    expect(queuedSeeds[0]).toBe(21);
    expect(new Set(queuedSeeds).size).toBe(3);
    // Each is saved when it finishes: History grows one by one, newest on top.
    await expect(u.history.locator('.history-item')).toHaveCount(1, { timeout: 60_000 });
    expect(await historySeeds(page)).toEqual([21]);
    for (const item of await items.all()) await expect(item).toHaveAttribute('data-status', 'done', { timeout: 60_000 });
    await expect(u.history.locator('.history-item')).toHaveCount(3);
    expect(await historySeeds(page)).toEqual([...queuedSeeds].reverse());
    await expect(page.locator('figure.result video')).toBeVisible();
  });

  test('one prompt per line; a waiting video can be removed; Cancel stops the running one and pauses the rest', async ({ page }) => {
    await openFake(page, 'stepMs=300');
    const u = ui(page);
    const list = await queueLongThenTwo(page, { seed: '5', steps: '1' });
    await expect(list.getByRole('listitem', { name: "'first prompt' (seed 5): Running now" })).toBeVisible();
    await list.getByRole('button', { name: "Remove 'third prompt' (seed 5) from the queue" }).click();
    await expect(list.getByRole('listitem')).toHaveCount(2);
    await expect(u.cancel).toBeEnabled();
    await u.cancel.click();
    await expect(list.getByRole('listitem', { name: "'first prompt' (seed 5): Cancelled" })).toBeVisible();
    await expect(list.getByRole('listitem', { name: "'second prompt' (seed 5): Waiting" })).toBeVisible();
    await expect(u.generate).toBeEnabled();
    await expect(u.history).toHaveCount(0);
    // Resume: the waiting one runs and is saved; the cancelled one is not.
    await expect(u.queue.getByRole('status')).toHaveText('Paused: 1 video waits. Resume the queue to run it.');
    await u.queue.getByRole('button', { name: 'Resume queue (1)' }).click();
    await expect(list.getByRole('listitem', { name: "'second prompt' (seed 5): Done · saved to History" })).toBeVisible({ timeout: 60_000 });
    await expect(u.history.getByRole('listitem', { name: 'Saved video: second prompt' })).toBeVisible();
    await expect(u.history.locator('.history-item')).toHaveCount(1);
    await u.queue.getByRole('button', { name: 'Clear finished' }).click();
    await expect(list).toHaveCount(0);
  });

  test('a reload keeps the waiting videos, paused, to resume; the running one becomes an interrupted History entry', async ({ page }) => {
    await openFake(page, 'stepMs=300');
    const u = ui(page);
    const list = await queueLongThenTwo(page, { seed: '6', steps: '2' });
    await expect(u.progress).toHaveAttribute('aria-valuetext', /Denoising: step [1-9]/);
    page.on('dialog', (d) => void d.accept()); // the reload asks first (a run is going on)
    await page.reload();
    await expect(u.model).toContainText('fake-test-pack');
    // The two that waited are back, paused; the running one is in History as interrupted.
    await expect(list.getByRole('listitem')).toHaveText([/^second prompt\s*seed 6 · Waiting/, /^third prompt\s*seed 6 · Waiting/]);
    await expect(u.queue.getByRole('status')).toHaveText('Paused: 2 videos wait. Resume the queue to run them.');
    const interrupted = u.history.getByRole('listitem', { name: 'Interrupted run: first prompt' });
    await expect(interrupted.locator('[data-status="interrupted"]')).toContainText(/Interrupted.*stopped during denoising, step \d+ of 1000/);
    await expect(u.progress).toHaveCount(0); // paused: nothing runs by itself
    await page.locator('.area-out').screenshot({ path: `${ARTIFACTS}/queue-after-reload-1280x800.png` }); // docs/screenshots/desktop-1280x800-after-reload.png
    await u.queue.getByRole('button', { name: 'Resume queue (2)' }).click();
    for (const p of ['second prompt', 'third prompt']) {
      await expect(list.getByRole('listitem', { name: `'${p}' (seed 6): Done · saved to History` })).toBeVisible({ timeout: 60_000 });
      await expect(u.history.getByRole('listitem', { name: `Saved video: ${p}` })).toBeVisible();
    }
    await expect(u.queue.getByRole('status')).toHaveCount(0);
    // Nothing waits any more: a reload brings no queue back.
    await page.reload();
    await expect(u.model).toContainText('fake-test-pack');
    await expect(list).toHaveCount(0);
    await expect(u.history.locator('.history-item')).toHaveCount(3);
  });

  test('two tabs: the second neither runs nor offers the first tab’s queue; once that tab is gone its waiting videos are offered again, to one tab', async ({ page, context }) => {
    await openFake(page, 'stepMs=300');
    await queueLongThenTwo(page, { seed: '7', steps: '1' }); // tab A: 'first prompt' runs, two wait
    const b = await context.newPage();
    await showAdvanced(b);
    await openFake(b, 'stepMs=300');
    const ub = ui(b);
    const listB = ub.queue.getByRole('list', { name: 'Queued videos' });
    await expect(listB).toHaveCount(0);
    await expect(ub.queue.getByRole('button', { name: /Resume queue/ })).toHaveCount(0);
    await expect(ub.progress).toHaveCount(0);
    // "Duplicate tab" starts the copy with the original's sessionStorage (its tab id): the copy is
    // another tab all the same, and does not take A's queue as its own.
    const session = await page.evaluate(() => JSON.stringify(Object.fromEntries(Object.entries(sessionStorage))));
    const dup = await context.newPage();
    await dup.addInitScript((s) => { if (!sessionStorage.getItem('lavie.tab')) for (const [k, v] of Object.entries(JSON.parse(s) as Record<string, string>)) sessionStorage.setItem(k, v); }, session);
    await showAdvanced(dup);
    await openFake(dup, 'stepMs=300');
    await expect(ui(dup).queue.getByRole('button', { name: /Resume queue/ })).toHaveCount(0);
    await expect(ui(dup).queue.getByRole('list', { name: 'Queued videos' })).toHaveCount(0);
    expect(await dup.evaluate(() => sessionStorage.getItem('lavie.tab'))).not.toBe(JSON.parse(session)['lavie.tab']);
    await dup.close({ runBeforeUnload: false });
    // B's own queue is its own: it runs, and saving it leaves A's waiting videos alone.
    await ub.prompt.fill('tab b prompt');
    await ub.seed.fill('9');
    await ub.steps.fill('1');
    await ub.queue.getByRole('button', { name: 'Add to queue' }).click();
    await expect(listB.getByRole('listitem', { name: "'tab b prompt' (seed 9): Done · saved to History" })).toBeVisible({ timeout: 60_000 });
    await expect(listB.getByRole('listitem')).toHaveCount(1);
    // A closes. B reloads at once: A's beat is recent, so its videos are still A's.
    await page.close({ runBeforeUnload: false });
    await b.reload();
    await expect(ub.model).toContainText('fake-test-pack');
    await expect(listB).toHaveCount(0);
    // STALE_MS later A counts as gone: B, still open, takes its waiting videos over at its next beat
    // (paused); after a reload they are B's own, and A's running video is in History as interrupted.
    await context.clock.setFixedTime(Date.now() + STALE_MS + 10_000);
    await expect(listB.getByRole('listitem')).toHaveText([/^second prompt\s*seed 7 · Waiting/, /^third prompt\s*seed 7 · Waiting/], { timeout: 3 * BEAT_MS });
    await expect(ub.queue.getByRole('status')).toHaveText('Paused: 2 videos wait. Resume the queue to run them.');
    await b.reload();
    await expect(ub.model).toContainText('fake-test-pack');
    await expect(listB.getByRole('listitem')).toHaveText([/^second prompt\s*seed 7 · Waiting/, /^third prompt\s*seed 7 · Waiting/]);
    await expect(ub.queue.getByRole('status')).toHaveText('Paused: 2 videos wait. Resume the queue to run them.');
    await expect(ub.history.getByRole('listitem', { name: 'Interrupted run: first prompt' })).toBeVisible();
    // They are B's now: a third tab does not offer them too.
    const c = await context.newPage();
    await showAdvanced(c);
    await openFake(c, 'stepMs=300');
    await expect(ui(c).queue.getByRole('list', { name: 'Queued videos' })).toHaveCount(0);
    await expect(ui(c).queue.getByRole('button', { name: /Resume queue/ })).toHaveCount(0);
    await ub.queue.getByRole('button', { name: 'Resume queue (2)' }).click();
    for (const p of ['second prompt', 'third prompt']) {
      await expect(listB.getByRole('listitem', { name: `'${p}' (seed 7): Done · saved to History` })).toBeVisible({ timeout: 60_000 });
    }
  });

  test('a video added while another run goes on starts by itself when that run ends', async ({ page }) => {
    await openFake(page, 'stepMs=200');
    const u = ui(page);
    const list = u.queue.getByRole('list', { name: 'Queued videos' });
    await u.prompt.fill('the run before');
    await u.seed.fill('3');
    await u.steps.fill('40');
    await u.generate.click();
    await expect(u.progress).toHaveAttribute('aria-valuetext', /Denoising: step [1-9]/);
    await u.prompt.fill('queued meanwhile');
    await u.queue.getByRole('button', { name: 'Add to queue' }).click();
    await expect(list.getByRole('listitem', { name: "'queued meanwhile' (seed 3): Waiting" })).toBeVisible();
    await expect(u.queue.getByRole('status')).toHaveText('1 video waits: the queue starts when the current run ends.');
    await expect(u.queue.getByRole('button', { name: /Resume queue/ })).toHaveCount(0); // not paused
    await expect(list.getByRole('listitem', { name: "'queued meanwhile' (seed 3): Done · saved to History" })).toBeVisible({ timeout: 60_000 });
    await expect(u.history.getByRole('listitem', { name: 'Saved video: the run before' })).toBeVisible();
    await expect(u.history.getByRole('listitem', { name: 'Saved video: queued meanwhile' })).toBeVisible();
  });

  test('the queue refuses a request the contract refuses, with the setting named', async ({ page }) => {
    await openFake(page, 'stepMs=10');
    const u = ui(page);
    await u.prompt.fill('ok');
    await u.steps.fill('0');
    await u.queue.getByRole('button', { name: 'Add to queue' }).click();
    await expect(u.queue.getByRole('status')).toHaveText(/^Steps must be a whole number from 1 to \d+\.$/);
    await expect(u.queue.getByRole('list', { name: 'Queued videos' })).toHaveCount(0);
  });
});
