// Time left for the whole generation (every stage's text encoding, steps, decoding and video
// encoding), from the stage plan's work (units of one base UNet call, src/engine/stages/plan.ts)
// and this device's measured speed: rates kept from earlier runs, refined as this run goes.
// No DOM, no timers: the caller passes a clock, so Node tests drive it with a fake one.
import type { Phase, ProgressInfo, Stage, StagePlan, StageVideo } from '../protocol.ts';

/** ms per unit of work, per stage and phase ("base.denoise"), plus ANY: ms per base-UNet-call unit
 * over all UNet-like phases (the fallback for a phase this device has not timed yet). */
export type Rates = Record<string, number>;
export const ANY = 'any';

type ItemPhase = 'text' | 'condition' | 'denoise' | 'decode' | 'encode';
interface Item { stage: Stage; phase: ItemPhase; units: number; key: string }

/** UNet-like phases: their units are base UNet calls, so one device speed (ANY) relates them. */
const UNET_LIKE = new Set<Phase>(['condition', 'denoise', 'decode']);
/** Before text or video encoding were ever timed here: guesses as a multiple of ANY (per prompt
 * encoding; per million output pixels), replaced by the first measurement. */
const PRIOR_OF_ANY: Partial<Record<ItemPhase, number>> = { text: 0.5, encode: 0.2 };
/** Weight of a remembered rate against this run's own timing of a phase, in units of work done. */
const PRIOR_WEIGHT = 2;
/** A phase is "taking longer than expected" once its estimate ran out and nothing moved for this long. */
const STALL_MS = 3000;

const megapixels = (v: StageVideo) => (v.frames * v.width * v.height) / 1e6;

/** The phases of a plan in the order they run. */
export function planItems(plan: readonly StagePlan[]): Item[] {
  const out: Item[] = [];
  const add = (stage: Stage, phase: ItemPhase, units: number) => { if (units > 0) out.push({ stage, phase, units, key: `${stage}.${phase}` }); };
  for (const p of plan) {
    add(p.stage, 'text', 1);
    add(p.stage, 'condition', p.work.condition ?? 0);
    add(p.stage, 'denoise', p.work.denoise ?? 0);
    add(p.stage, 'decode', p.work.decode ?? 0);
    add(p.stage, 'encode', megapixels(p.video));
  }
  return out;
}

/** ms per unit of `it` from known rates (a remembered rate scaled by `speed`, this device's pace now
 * against then), or null if nothing is known yet. */
function rateOf(it: Item, rates: Rates, speed: number, anyNow: number | null): number | null {
  const own = rates[it.key];
  if (own !== undefined) return own * speed;
  const any = anyNow ?? (rates[ANY] !== undefined ? rates[ANY] * speed : null);
  if (any === null) return null;
  return UNET_LIKE.has(it.phase) ? any : any * (PRIOR_OF_ANY[it.phase] ?? 1);
}

export interface PlanEstimate { stages: { stage: Stage; ms: number | null }[]; totalMs: number | null }

/** Before a run: the time of each stage and the total from remembered rates (null where unknown). */
export function estimatePlan(plan: readonly StagePlan[], rates: Rates): PlanEstimate {
  const items = planItems(plan);
  const stages = plan.map((p) => {
    let ms: number | null = 0;
    for (const it of items) {
      if (it.stage !== p.stage) continue;
      const r = rateOf(it, rates, 1, null);
      ms = r === null || ms === null ? null : ms + r * it.units;
    }
    return { stage: p.stage, ms };
  });
  const totalMs = stages.every((s) => s.ms !== null) ? stages.reduce((a, s) => a + s.ms!, 0) : null;
  return { stages, totalMs };
}

export interface JobEta {
  /** Time left for the whole job; null until anything is known. Never below 1 s while work remains. */
  remainingMs: number | null;
  /** What runs now: as the engine last said, or the next phase once the reported one completed
   * (then `starting`: it has reported nothing yet, e.g. the first denoising step after the prompt). */
  stage: Stage | null;
  phase: Phase | null;
  starting: boolean;
  /** The current phase outlasted its estimate and nothing moved for a while: remainingMs is then the
   * rest of the job after it (a lower bound). */
  stalled: boolean;
}

export class JobEstimator {
  private readonly items: Item[];
  private cur = 0;
  /** When the current item started, how far it is (0..1), and when that was reported. */
  private curStart: number;
  private frac = 0;
  private lastAt: number;
  private phase: Phase | null = null;
  /** The item the last event belonged to (-1: a phase the plan does not time). */
  private lastItem = -1;
  private stage: Stage | null = null;
  /** This run's timing per key (completed items only). */
  private readonly measured = new Map<string, { ms: number; units: number }>();
  private done = false;
  /** The current item also covered untimed work (e.g. networks loaded on first use): not a rate sample. */
  private tainted = false;

  constructor(plan: readonly StagePlan[], private readonly remembered: Rates, private readonly now: () => number) {
    this.items = planItems(plan);
    this.curStart = this.lastAt = now();
  }

  /** A progress event of this generation. */
  progress(p: ProgressInfo): void {
    if (this.done) return;
    const t = this.now();
    const stage = p.stage ?? this.items[0]?.stage ?? 'base';
    this.stage = stage;
    this.phase = p.phase;
    let i = this.items.findIndex((it) => it.stage === stage && it.phase === p.phase);
    let frac = fraction(p);
    // A phase the plan does not time (e.g. loading a stage's networks on first use): the stage's
    // first item has not begun.
    const untimed = i < 0;
    if (untimed) {
      i = this.items.findIndex((it) => it.stage === stage);
      frac = 0;
      if (i < 0) return;
    }
    if (i < this.cur) return; // late event of a finished phase
    this.lastItem = untimed ? -1 : i;
    if (i > this.cur) this.close(t, i);
    if (untimed) this.tainted = true;
    this.frac = Math.max(this.frac, Math.min(1, frac));
    this.lastAt = t;
    if (this.frac >= 1) this.close(t, i + 1);
  }

  /** The job finished (or stopped): no time left; this run's rates are final. */
  finish(): void {
    if (this.done) return;
    this.close(this.now(), this.items.length);
    this.done = true;
  }

  /** Close the current item at `t` (its time is measured if it really ran) and start item `next`
   * (items in between ran unseen: their time is not attributed). */
  private close(t: number, next: number): void {
    const it = this.items[this.cur];
    if (it && next === this.cur + 1 && !this.tainted) {
      const m = this.measured.get(it.key) ?? { ms: 0, units: 0 };
      this.measured.set(it.key, { ms: m.ms + (t - this.curStart), units: m.units + it.units });
    }
    this.cur = next;
    this.curStart = this.lastAt = t;
    this.frac = 0;
    this.tainted = false;
  }

  /** This run's UNet-like speed so far (ms per unit), counting the current item's progress. */
  private anyNow(): number | null {
    let ms = 0;
    let units = 0;
    for (const [key, m] of this.measured) if (UNET_LIKE.has(key.split('.')[1] as Phase)) { ms += m.ms; units += m.units; }
    const it = this.items[this.cur];
    if (it && UNET_LIKE.has(it.phase) && this.frac > 0) { ms += this.lastAt - this.curStart; units += this.frac * it.units; }
    return units > 0 ? ms / units : null;
  }

  /** How this device runs now against when the remembered rates were taken (machine load, thermals,
   * a background tab): this run's time over the remembered time of the same work so far. */
  private speed(): number {
    let now = 0;
    let then = 0;
    const add = (key: string, ms: number, units: number) => {
      const r = this.remembered[key];
      if (r !== undefined && UNET_LIKE.has(key.split('.')[1] as Phase)) { now += ms; then += r * units; }
    };
    for (const [key, m] of this.measured) add(key, m.ms, m.units);
    const it = this.items[this.cur];
    if (it && this.frac > 0) add(it.key, this.lastAt - this.curStart, this.frac * it.units);
    return then > 0 ? now / then : 1;
  }

  /** Remembered rates, with this run's measurements in place of the ones it has timed. */
  rates(): Rates {
    const out: Rates = { ...this.remembered };
    for (const [key, m] of this.measured) if (m.units > 0) out[key] = m.ms / m.units;
    let ms = 0;
    let units = 0;
    for (const [key, m] of this.measured) if (UNET_LIKE.has(key.split('.')[1] as Phase)) { ms += m.ms; units += m.units; }
    if (units > 0) out[ANY] = ms / units;
    return out;
  }

  estimate(): JobEta {
    const next = this.lastItem >= 0 && this.lastItem < this.cur ? this.items[this.cur] : undefined;
    const where = next ? { stage: next.stage, phase: next.phase, starting: true } : { stage: this.stage, phase: this.phase, starting: false };
    if (this.done || this.cur >= this.items.length) return { remainingMs: this.done ? 0 : 1000, stalled: false, ...where };
    const t = this.now();
    const anyNow = this.anyNow();
    const speed = this.speed();
    const own = (it: Item) => {
      const m = this.measured.get(it.key);
      return m && m.units > 0 ? m.ms / m.units : null;
    };
    const rateFor = (it: Item) => own(it) ?? rateOf(it, this.remembered, speed, anyNow);

    // The current item: its own pace so far, blended with what was known before it began.
    const it = this.items[this.cur]!;
    const prior = rateFor(it);
    const doneUnits = this.frac * it.units;
    const inItem = doneUnits > 0 ? (this.lastAt - this.curStart) / doneUnits : null;
    const r = inItem === null ? prior : prior === null ? inItem : (prior * PRIOR_WEIGHT + inItem * doneUnits) / (PRIOR_WEIGHT + doneUnits);
    let rest = 0;
    for (const next of this.items.slice(this.cur + 1)) {
      const nr = rateFor(next);
      if (nr === null) return { remainingMs: null, stalled: false, ...where };
      rest += nr * next.units;
    }
    if (r === null) return { remainingMs: null, stalled: false, ...where };
    const current = (1 - this.frac) * it.units * r - (t - this.lastAt);
    const stalled = current <= 0 && t - this.lastAt > STALL_MS;
    return { remainingMs: Math.max(1000, Math.max(0, current) + rest), stalled, ...where };
  }
}

/** How far a progress event is through its phase (VSR: over all windows and tiles). */
export function fraction(p: ProgressInfo): number {
  const inPhase = p.total > 0 ? Math.min(p.step, p.total) / p.total : 0;
  if (!p.windows) return inPhase;
  const tiles = p.tiles ?? 1;
  const slot = ((p.window ?? 1) - 1) * tiles + ((p.tile ?? 1) - 1);
  return (slot + inPhase) / (p.windows * tiles);
}
