// Issue 17 items 3, 4, 7 and issue 14 item 7 with the fake engine (tests/support/fake-engine.ts):
// the prompt first on every width, collapsible panels, Advanced, example prompts, a new seed each
// run, the model label at the top; nothing lost (form across reloads, a run interrupted by a reload,
// undo after delete, Cancel keeps the video); technical details behind a disclosure.
import { expect, test, type Page } from '@playwright/test';
import { NANO_EXAMPLE_PROMPTS, NANO_PACK_DESCRIPTION } from '../src/nano/vocabulary.ts';
import { ARTIFACTS, openFake, appLocators } from './support/pages.ts';

test.use({ bypassCSP: true });

const ui = appLocators;

/** Generate and wait for the video; returns the seed it was made with (from the file name). */
async function run(page: Page): Promise<string> {
  const u = ui(page);
  await u.generate.click();
  await expect(u.progress).toHaveCount(0, { timeout: 60_000 });
  const name = await u.download.getAttribute('download');
  return /lavie-seed(\d+)\.mp4/.exec(name ?? '')![1]!;
}

test.describe('the prompt first', () => {
  test('prompt before the Model panel in DOM order and on screen, at 1280×800 and 390×844; Model and Storage fold away, remembered', async ({ page }) => {
    await openFake(page, 'stepMs=10');
    const u = ui(page);
    for (const size of [{ width: 1280, height: 800 }, { width: 390, height: 844 }]) {
      await page.setViewportSize(size);
      const before = await u.prompt.evaluate((p) => {
        const model = document.querySelector('section[data-panel="model"]')!;
        return !!(p.compareDocumentPosition(model) & Node.DOCUMENT_POSITION_FOLLOWING);
      });
      expect(before).toBe(true);
      const prompt = (await u.prompt.boundingBox())!;
      const model = (await u.model.boundingBox())!;
      expect(prompt.y, `${size.width}px`).toBeLessThan(model.y);
      // On the first screen, with its Generate button (on a phone the example prompts scroll sideways).
      expect(prompt.y + prompt.height).toBeLessThan(size.height);
      const generate = (await u.generate.boundingBox())!;
      expect(generate.y + generate.height, `${size.width}px`).toBeLessThanOrEqual(size.height);
      await page.screenshot({ path: `${ARTIFACTS}/ux-first-screen-${size.width}x${size.height}.png` });
    }
    await page.setViewportSize({ width: 1280, height: 800 });
    const toggle = u.model.getByRole('button', { name: 'Model', exact: true });
    await expect(toggle).toHaveAttribute('aria-expanded', 'true');
    await toggle.click();
    await expect(toggle).toHaveAttribute('aria-expanded', 'false');
    await expect(u.model.locator('dt:text-is("Pack")')).toBeHidden();
    const storage = page.getByRole('region', { name: 'Storage' }).getByRole('button', { name: 'Storage', exact: true });
    await storage.click();
    await expect(storage).toHaveAttribute('aria-expanded', 'false');
    await page.reload();
    await expect(toggle).toHaveAttribute('aria-expanded', 'false');
    await expect(storage).toHaveAttribute('aria-expanded', 'false');
    await expect(u.model).toContainText('fake-test-pack'); // folded, it still names the model
    await toggle.click();
    await expect(u.model.locator('dt:text-is("Pack")')).toBeVisible();
  });

  test('Advanced holds seed, steps, guidance and sampler, folded at first; example chips fill the prompt; the model label offers the real weights', async ({ page }) => {
    await openFake(page, 'stepMs=10');
    const u = ui(page);
    await expect(u.advanced).toHaveAttribute('aria-expanded', 'false');
    for (const f of [u.seed, u.steps, u.guidance, u.sampler, u.negative]) await expect(f).toBeHidden();
    await expect(page.locator('.advanced .folded')).toHaveText('ddim · 6 steps · guidance 7.5 · new seed each run');
    await u.advanced.click();
    for (const f of [u.seed, u.steps, u.guidance, u.sampler, u.negative, u.newSeed]) await expect(f).toBeVisible();
    await expect(u.newSeed).toBeChecked();
    // Example prompts (the test pack names none: the generic ones).
    const chips = page.getByRole('group', { name: 'Example prompts' }).getByRole('button');
    expect(await chips.count()).toBeGreaterThan(1);
    const second = (await chips.nth(1).textContent())!;
    await chips.nth(1).click();
    await expect(u.prompt).toHaveValue(second);
    // The label at the top says what the model is, and one click reaches the model chooser.
    await expect(u.label).toContainText('Test weights: output is noise');
    await u.label.getByRole('button', { name: 'Use the real LaVie weights…' }).click();
    await expect(page.getByLabel('Pack URL')).toBeFocused();
    await expect(u.model.locator('details.sources')).toHaveAttribute('open', '');

    // The LaVie-nano demo pack: its description and its own example prompts.
    await page.goto(`/?pack=${encodeURIComponent('fake:?about=nano')}`);
    await expect(u.label).toContainText(NANO_PACK_DESCRIPTION);
    await expect(u.label).not.toContainText('Test weights');
    await expect(chips).toHaveText([...NANO_EXAMPLE_PROMPTS]);
    await chips.first().click();
    await expect(u.prompt).toHaveValue(NANO_EXAMPLE_PROMPTS[0]!);
  });

  test('a new seed each run (on by default); a seed typed by hand is kept', async ({ page }) => {
    await openFake(page, 'stepMs=10');
    const u = ui(page);
    await u.prompt.fill('a blue square moving right');
    const a = await run(page);
    const b = await run(page);
    expect(b).not.toBe(a);
    await u.advanced.click();
    await expect(u.seed).toHaveValue(b); // the field shows the seed of the last video
    await u.seed.fill('77');
    await expect(u.newSeed).not.toBeChecked();
    expect(await run(page)).toBe('77');
    expect(await run(page)).toBe('77');
  });
});

test.describe('nothing lost', () => {
  test('the form survives a reload; a saved value the request contract refuses falls back to the default', async ({ page }) => {
    await openFake(page, 'stepMs=10&interp=1');
    const u = ui(page);
    await u.advanced.click();
    await u.prompt.fill('a red ball moving left');
    await u.negative.fill('blurry');
    await u.seed.fill('4242');
    await u.steps.fill('9');
    await u.guidance.fill('5.5');
    await u.sampler.selectOption('euler');
    await page.getByRole('checkbox', { name: /Smoother/ }).check();
    await page.reload();
    await expect(u.model).toContainText('fake-test-pack');
    await expect(u.advanced).toHaveAttribute('aria-expanded', 'true'); // remembered too
    await expect(u.prompt).toHaveValue('a red ball moving left');
    await expect(u.negative).toHaveValue('blurry');
    await expect(u.seed).toHaveValue('4242');
    await expect(u.newSeed).not.toBeChecked();
    await expect(u.steps).toHaveValue('9');
    await expect(u.guidance).toHaveValue('5.5');
    await expect(u.sampler).toHaveValue('euler');
    await expect(page.getByRole('checkbox', { name: /Smoother/ })).toBeChecked();
    // Values edited outside the app: each is checked through the contract; refused ones fall back.
    await page.evaluate(() => {
      const saved = JSON.parse(localStorage.getItem('lavie.form')!);
      saved.form.steps = '99999';
      saved.form.sampler = 'bogus';
      saved.form.seed = '-3';
      localStorage.setItem('lavie.form', JSON.stringify(saved));
    });
    await page.reload();
    await expect(u.model).toContainText('fake-test-pack');
    await expect(u.prompt).toHaveValue('a red ball moving left');
    await expect(u.steps).toHaveValue('6'); // the pack's default
    await expect(u.sampler).toHaveValue('ddim');
    await expect(u.seed).not.toHaveValue('-3');
    await expect(u.guidance).toHaveValue('5.5');
  });

  test('a reload during a run asks first; History records the interrupted run (when, how far) to run again, or remove with undo', async ({ page }) => {
    await openFake(page, 'stepMs=300');
    const u = ui(page);
    await u.advanced.click();
    await u.prompt.fill('a yellow triangle moving up');
    await u.seed.fill('99');
    await u.steps.fill('40');
    await u.generate.click();
    await expect(u.progress).toHaveAttribute('aria-valuetext', /Denoising: step [1-9]/);
    const dialogs: string[] = [];
    page.on('dialog', (d) => { dialogs.push(d.type()); void d.accept(); });
    await page.reload();
    expect(dialogs).toEqual(['beforeunload']);
    // One History: the interrupted run is an entry of it, marked, with when and how far it got.
    await expect(page.getByRole('region', { name: 'Interrupted runs' })).toHaveCount(0);
    const entry = u.history.getByRole('listitem', { name: 'Interrupted run: a yellow triangle moving up' });
    const tile = entry.locator('[data-status="interrupted"]');
    await expect(tile.locator('.tag')).toHaveText('Interrupted');
    await expect(tile).toContainText('Base video');
    await expect(tile).toContainText(/stopped during denoising, step ([1-9]|[1-3]\d) of 40 \(\d+ %\) · \S/);
    await expect(entry).toContainText('seed 99 · ddim 40 steps');
    await expect(u.progress).toHaveCount(0); // nothing runs by itself
    await entry.screenshot({ path: `${ARTIFACTS}/ux-interrupted-entry.png` });
    await u.prompt.fill('something else');
    await u.steps.fill('3');
    await entry.getByRole('button', { name: /^Use settings/ }).click();
    await expect(u.prompt).toHaveValue('a yellow triangle moving up');
    await expect(u.seed).toHaveValue('99');
    await expect(u.steps).toHaveValue('40');
    // No run going on: leaving does not ask; the entry is kept (IndexedDB).
    await page.reload();
    expect(dialogs).toEqual(['beforeunload']);
    await expect(tile).toBeVisible();
    // Remove, with the undo every delete has.
    const remove = entry.getByRole('button', { name: "Remove the interrupted run of 'a yellow triangle…' (seed 99)", exact: true });
    await remove.click();
    await expect(entry).toHaveCount(0);
    await expect(page.getByRole('status').filter({ hasText: 'Removed the interrupted run “a yellow triangle moving up”.' })).toBeVisible();
    await page.getByRole('button', { name: 'Undo delete' }).click();
    await expect(tile).toBeVisible();
    // Run again (a faster fake engine): the same settings go through the queue and the video is saved.
    await openFake(page, 'stepMs=10');
    await u.prompt.fill('something else');
    await entry.getByRole('button', { name: "Run the interrupted run of 'a yellow triangle…' (seed 99) again", exact: true }).click();
    await expect(u.queue.getByRole('listitem', { name: "'a yellow triangle…' (seed 99): Done · saved to History" })).toBeVisible({ timeout: 60_000 });
    await expect(u.download).toHaveAttribute('download', 'lavie-seed99.mp4');
    await expect(u.history.getByRole('listitem', { name: 'Saved video: a yellow triangle moving up' })).toContainText('seed 99 · ddim 40 steps');
    await expect(tile).toBeVisible(); // the interrupted entry stays until removed
    // Removed without undo: gone after a reload.
    await remove.click();
    await page.reload();
    await expect(u.model).toContainText('fake-test-pack');
    await expect(entry).toHaveCount(0);
    await expect(u.history.getByRole('listitem', { name: 'Saved video: a yellow triangle moving up' })).toBeVisible();
  });

  test('Cancel keeps the last finished video; Delete offers undo; technical details sit behind a disclosure', async ({ page }) => {
    await openFake(page, 'stepMs=200');
    const u = ui(page);
    await u.advanced.click();
    await u.prompt.fill('a green circle growing');
    await u.seed.fill('12');
    await u.steps.fill('1');
    expect(await run(page)).toBe('12');
    // The main line says what a person needs; codec, compute and timings are details.
    const result = page.locator('.result');
    await expect(result.locator('.result-line')).toHaveText(/^Base video · Runs on this device · 16 frames · 2 s · made in \d+:\d\d$/);
    await expect(result.getByText(/avc1/)).toBeHidden();
    await expect(u.model.getByText(/fp32/)).toBeHidden();
    await result.getByText('Technical details').click();
    await expect(result.locator('dd[data-field="Codec"]')).toBeVisible();
    await expect(result.locator('dd[data-field="Codec"]')).toHaveText(/^avc1\./);
    await expect(result.locator('dd[data-field="Compute"]')).toHaveText('fake · fp32 compute');
    await u.model.getByText('Technical details').click();
    await expect(u.model.locator('dd[data-field="Compute"]')).toBeVisible();

    // A second run, cancelled: the first video comes back to the player.
    await u.steps.fill('40');
    await u.generate.click();
    await expect(u.progress).toHaveAttribute('aria-valuetext', /Denoising: step [1-9]/);
    await expect(u.download).toHaveCount(0);
    await u.cancel.click();
    await expect(u.download).toHaveAttribute('download', 'lavie-seed12.mp4');
    await expect(page.locator('video')).toBeVisible();

    // Delete, then undo; a delete without undo is final after a reload.
    const history = page.getByRole('region', { name: 'History' });
    const entry = history.getByRole('listitem', { name: /a green circle growing/ }).first();
    await expect(entry).toBeVisible();
    await entry.getByRole('button', { name: /Delete/ }).click();
    await expect(history).toHaveCount(0);
    const undo = page.getByRole('button', { name: 'Undo delete' });
    await expect(page.getByRole('status').filter({ hasText: 'Deleted “a green circle growing”.' })).toBeVisible();
    await undo.click();
    await expect(entry).toBeVisible();
    await page.reload();
    await expect(entry).toBeVisible(); // the undone delete did not happen
    await entry.getByRole('button', { name: /Delete/ }).click();
    await expect(undo).toBeVisible();
    await page.reload();
    await expect(u.model).toContainText('fake-test-pack');
    await expect(history).toHaveCount(0);
    await expect(undo).toHaveCount(0);
  });
});
