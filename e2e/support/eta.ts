// The whole-job ETA the app shows (src/app/eta.ts via Output.tsx's data-eta-ms), recorded in the page
// during one generation and compared, at 25 % of the run's time, with the time the run actually had
// left. Shared by eta.spec (fake engine, controlled timing) and app.spec (real engine, tiny pack).
import { expect, type Page } from '@playwright/test';

export interface EtaSample { t: number; eta: number | null; text: string }
export interface EtaAt25 { shown: number; left: number; total: number; text: string }

/**
 * Record, in the page, every change of (ETA shown, progress text) from now on, and when `doneSelector`
 * (the run's final result, e.g. its download link) appears. Call right before Generate: the run's
 * time counts from here.
 */
export async function recordEta(page: Page, doneSelector = 'a[download]'): Promise<void> {
  await page.evaluate((doneSelector) => {
    const w = window as unknown as { etaRec: { startAt: number; log: EtaSample[]; doneAt: number | null } };
    // A result already on the page (an earlier run's) is not this run's end.
    if (document.querySelector(doneSelector)) throw new Error(`${doneSelector} is already on the page`);
    const rec = { startAt: performance.now(), log: [] as EtaSample[], doneAt: null as number | null };
    w.etaRec = rec;
    const note = () => {
      const p = document.querySelector<HTMLElement>('.output .progress');
      if (p) {
        const eta = p.dataset.etaMs === undefined ? null : Number(p.dataset.etaMs);
        const text = p.querySelector('.progress-text')?.textContent ?? '';
        const last = rec.log.at(-1);
        if (!last || last.eta !== eta || last.text !== text) rec.log.push({ t: performance.now(), eta, text });
      }
      if (document.querySelector(doneSelector)) {
        rec.doneAt = performance.now();
        obs.disconnect();
      }
    };
    const obs = new MutationObserver(note);
    obs.observe(document.body, { subtree: true, childList: true, characterData: true, attributes: true });
  }, doneSelector);
}

/** What recordEta saw (call after the result appeared). */
export const etaRecord = (page: Page) => page.evaluate(() =>
  (window as unknown as { etaRec: { startAt: number; log: EtaSample[]; doneAt: number | null } }).etaRec);

/** The ETA shown at 25 % of the run's time against the time the run actually had left then
 * (null if no ETA was shown by then). */
export function at25(startAt: number, log: readonly EtaSample[], doneAt: number): EtaAt25 | null {
  const t25 = startAt + 0.25 * (doneAt - startAt);
  const sample = [...log].reverse().find((s) => s.t <= t25 && s.eta !== null);
  return sample ? { shown: sample.eta!, left: doneAt - sample.t, total: doneAt - startAt, text: sample.text } : null;
}

/**
 * The run recorded by recordEta showed, at 25 % of its time, an ETA within `factor` (either way) of
 * the time it actually had left, and never "ETA 0:00". With `stalledIsLowerBound`, an ETA the bar
 * then marked as a stalled phase's lower bound ("ETA ≥ …, longer than expected") need only be one:
 * at most the time actually left. Returns the comparison (for the log).
 */
export async function expectEtaAt25Within(page: Page, factor: number, o: { stalledIsLowerBound?: boolean } = {}): Promise<EtaAt25> {
  const { startAt, log, doneAt } = await etaRecord(page);
  expect(doneAt, 'the run\'s result never appeared while recording').not.toBeNull();
  const c = at25(startAt, log, doneAt!);
  const trace = log.map((s) => `${Math.round(s.t - startAt)} ms: eta ${s.eta} · ${s.text}`).join('\n');
  console.log(`ETA at 25 %: ${c ? `shown ${c.shown} ms, actually left ${Math.round(c.left)} ms (ratio ${(c.shown / c.left).toFixed(2)}), run ${Math.round(c.total)} ms, "${c.text}"` : 'none'}; ${log.length} samples`);
  expect(c, `no ETA shown by 25 % of the run:\n${trace}`).not.toBeNull();
  for (const s of log) expect(s.text, trace).not.toMatch(/ETA 0:00/);
  if (o.stalledIsLowerBound && c!.text.includes('ETA ≥')) {
    expect(c!.shown, trace).toBeLessThanOrEqual(c!.left);
    return c!;
  }
  expect(c!.shown / c!.left, trace).toBeLessThan(factor);
  expect(c!.left / c!.shown, trace).toBeLessThan(factor);
  return c!;
}
