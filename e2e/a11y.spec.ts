// Issue 17 item 6: no serious or critical axe violations on the main page, a running generation, an
// error, the embed view and the phone layout; the focus ring and input borders at ≥ 3:1 against the
// card they sit on (axe does not check those). Fake engine (tests/support/fake-engine.ts): cheap.
import AxeBuilder from '@axe-core/playwright';
import { expect, test, type Page } from '@playwright/test';
import { showAdvanced, useFakeEngine } from './support/pages.ts';

test.use({ bypassCSP: true });
test.beforeEach(({ page }) => showAdvanced(page));

const open = async (page: Page, fake: string) => {
  await useFakeEngine(page);
  await page.goto(`/?pack=${encodeURIComponent(`fake:?${fake}`)}`);
};
const loaded = (page: Page) => expect(page.getByRole('region', { name: 'Model' })).toContainText('fake-test-pack');

/** Serious and critical violations, one line each (rule, impact, where), so a failure says what to fix. */
async function seriousViolations(page: Page): Promise<string[]> {
  const { violations } = await new AxeBuilder({ page }).analyze();
  return violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .flatMap((v) => v.nodes.map((n) => `${v.id} (${v.impact}): ${n.target.join(' ')} — ${n.failureSummary?.replace(/\s+/g, ' ')}`));
}

/** WCAG contrast ratio of an element's outline or border colour (as the page computes it) against the
 * colour it stands on (the nearest ancestor with a background) and, for a border, its own background: the lower. */
async function contrastOf(page: Page, selector: string, prop: 'outlineColor' | 'borderTopColor'): Promise<number> {
  return page.locator(selector).first().evaluate((el, prop) => {
    const rgba = (c: string) => {
      const ctx = document.createElement('canvas').getContext('2d', { willReadFrequently: true })!;
      ctx.clearRect(0, 0, 1, 1);
      ctx.fillStyle = c;
      ctx.fillRect(0, 0, 1, 1);
      return [...ctx.getImageData(0, 0, 1, 1).data];
    };
    const lum = (c: number[]) => c.slice(0, 3).map((v) => v / 255).map((v) => (v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4)).reduce((s, v, i) => s + v * [0.2126, 0.7152, 0.0722][i]!, 0);
    const ratio = (a: number[], b: number[]) => {
      const [hi, lo] = [lum(a), lum(b)].sort((x, y) => y - x);
      return (hi! + 0.05) / (lo! + 0.05);
    };
    let p = el.parentElement;
    while (p && rgba(getComputedStyle(p).backgroundColor)[3] === 0) p = p.parentElement;
    const behind = rgba(p ? getComputedStyle(p).backgroundColor : 'white');
    const own = rgba(getComputedStyle(el).backgroundColor);
    const raw = rgba(getComputedStyle(el)[prop]);
    const a = raw[3]! / 255; // a translucent ring is seen mixed with what is behind it
    const fg = raw.slice(0, 3).map((c, i) => c * a + behind[i]! * (1 - a));
    const against = prop === 'borderTopColor' && own[3] === 255 ? [behind, own] : [behind];
    return Math.min(...against.map((b) => ratio(fg, b)));
  }, prop);
}

test.describe('accessibility (axe: no serious or critical violations)', () => {
  test('main page, then a running generation; focus ring and input borders ≥ 3:1', async ({ page }) => {
    await open(page, 'stepMs=400');
    await loaded(page);
    expect(await seriousViolations(page)).toEqual([]);

    const prompt = page.getByLabel('Prompt', { exact: true });
    expect(await contrastOf(page, 'textarea', 'borderTopColor')).toBeGreaterThanOrEqual(3);
    await prompt.focus();
    await page.keyboard.press('Shift+Tab');
    await page.keyboard.press('Tab'); // keyboard focus: :focus-visible applies
    await expect(prompt).toBeFocused();
    expect(await page.locator('textarea:focus-visible').count()).toBe(1);
    expect(await contrastOf(page, 'textarea:focus-visible', 'outlineColor')).toBeGreaterThanOrEqual(3);

    await prompt.fill('a red ball bouncing on a wooden floor');
    // Long enough to outlast axe on a loaded machine (the page is closed after it, which stops the run).
    await page.getByLabel('Steps', { exact: true }).fill('1000');
    await page.getByRole('button', { name: 'Generate', exact: true }).click();
    await expect(page.getByRole('progressbar')).toBeVisible();
    await expect(page.locator('.preview canvas')).toBeVisible();
    expect(await seriousViolations(page)).toEqual([]);
    await expect(page.getByRole('progressbar')).toBeVisible(); // axe saw a running generation
  });

  test('dark colour scheme: main page; input borders and focus ring ≥ 3:1', async ({ page }) => {
    await page.emulateMedia({ colorScheme: 'dark' });
    await open(page, 'stepMs=10');
    await loaded(page);
    expect(await seriousViolations(page)).toEqual([]);
    expect(await contrastOf(page, 'textarea', 'borderTopColor')).toBeGreaterThanOrEqual(3);
    await page.getByLabel('Prompt', { exact: true }).focus();
    await page.keyboard.press('Tab');
    expect(await contrastOf(page, ':focus-visible', 'outlineColor')).toBeGreaterThanOrEqual(3);
  });

  test('an error', async ({ page }) => {
    await open(page, 'loadFail=pack-not-found');
    await expect(page.getByRole('alert')).toHaveAttribute('data-code', 'pack-not-found');
    expect(await seriousViolations(page)).toEqual([]);
  });

  test('the phone layout (390×844) with a finished video', async ({ page }) => {
    await page.setViewportSize({ width: 390, height: 844 });
    await open(page, 'stepMs=10');
    await loaded(page);
    await page.getByLabel('Prompt', { exact: true }).fill('a lighthouse in a storm');
    await page.getByLabel('Steps', { exact: true }).fill('2');
    await page.getByRole('button', { name: 'Generate', exact: true }).click();
    await expect(page.getByRole('link', { name: 'Download MP4' })).toBeVisible({ timeout: 60_000 });
    expect(await seriousViolations(page)).toEqual([]);
  });

  test('the embed view, inside the example host page, before and after a video', async ({ page }) => {
    await useFakeEngine(page);
    await page.goto('/embed-example.html');
    const frame = page.frameLocator('#lavie');
    await expect(frame.locator('[data-state="ready"]')).toBeVisible();
    expect(await seriousViolations(page)).toEqual([]);
    await page.getByRole('button', { name: 'Generate' }).click();
    await expect(frame.getByLabel('Generated video')).toBeVisible({ timeout: 60_000 });
    expect(await seriousViolations(page)).toEqual([]);
  });
});
