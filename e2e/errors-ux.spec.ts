// Issue 17 item 2: errors in the user's words (the internal code only in the details line), a
// failed pack choice that is not kept, Generate disabled with its reason while no model is loaded,
// and a model lost after loading that reaches the screen. Fake engine (tests/support/fake-engine.ts).
import { expect, test, type Page } from '@playwright/test';
import { ARTIFACTS, useFakeEngine } from './support/pages.ts';

test.use({ bypassCSP: true });

const open = async (page: Page, fake: string) => {
  await useFakeEngine(page);
  await page.goto(`/?pack=${encodeURIComponent(`fake:?${fake}`)}`);
};
const generate = (page: Page) => page.getByRole('button', { name: 'Generate', exact: true });

test.describe('errors in user words', () => {
  test('no model loaded: the error says what and what to do, the code only in the details line; Generate is disabled and says why', async ({ page }) => {
    await open(page, 'loadFail=pack-not-found');
    const alert = page.getByRole('alert');
    await expect(alert).toHaveAttribute('data-code', 'pack-not-found');
    await expect(alert.locator('h2')).toHaveText('There is no model at this address');
    await expect(alert.locator('.hint')).not.toContainText('pack-not-found');
    await expect(alert.locator('.detail')).toContainText('Details: pack-not-found');
    await expect(generate(page)).toBeDisabled();
    await expect(generate(page)).toHaveAccessibleDescription(/Generate needs a model, and none is loaded/);
    await page.screenshot({ path: `${ARTIFACTS}/errors-no-model-1280x800.png` });
  });

  test('a failed pack choice is not remembered: the app goes back to the pack that worked and keeps the error on screen', async ({ page }) => {
    await open(page, 'stepMs=10');
    const model = page.getByRole('region', { name: 'Model' });
    await expect(model).toContainText('fake-test-pack');
    const remembered = await page.evaluate(() => localStorage.getItem('lavie.pack'));
    await page.getByText('Change model').click();
    await page.getByLabel('Pack URL').fill('fake:?loadFail=pack-host-refused');
    await page.getByRole('button', { name: 'Load from URL' }).click();
    const alert = page.getByRole('alert');
    await expect(alert).toHaveAttribute('data-code', 'pack-host-refused');
    await expect(alert).toContainText('This site does not load models from that address');
    await expect(alert).toContainText('Back on the model that worked before: fake-test-pack.');
    await expect(model.locator('dt:text-is("Pack")')).toBeVisible();
    await expect(generate(page)).toBeEnabled();
    expect(await page.evaluate(() => localStorage.getItem('lavie.pack'))).toBe(remembered);
  });

  test('a prompt of only spaces: the setting is named in words, no internal code in the message', async ({ page }) => {
    await open(page, 'stepMs=10');
    await expect(page.getByRole('region', { name: 'Model' })).toContainText('fake-test-pack');
    await page.getByLabel('Prompt', { exact: true }).fill('   ');
    await generate(page).click();
    const alert = page.getByRole('alert');
    await expect(alert).toHaveAttribute('data-code', 'bad-request');
    await expect(alert.locator('.what')).toHaveText('Prompt is empty: describe the video you want.');
    for (const part of ['h2', '.what', '.hint']) await expect(alert.locator(part)).not.toContainText('bad-request');
  });

  test('the model lost after loading (the reload after a GPU reset failed) reaches the screen', async ({ page }) => {
    await open(page, 'loseAfterMs=1500&reloadFail=no-webgpu');
    const model = page.getByRole('region', { name: 'Model' });
    await expect(model).toContainText('fake-test-pack');
    const alert = page.getByRole('alert');
    await expect(alert).toHaveAttribute('data-code', 'no-webgpu', { timeout: 20_000 });
    await expect(model).toContainText('No model loaded');
    await expect(generate(page)).toBeDisabled();
  });
});
