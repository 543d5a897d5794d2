// GPU memory over a generation (issue 20 item 4), from one description: the phases each stage
// declares (CascadeStage.phases), each holding a set of networks. At any moment the device holds the
// weights of the networks created then (as ORT keeps them) plus the activations of the one graph
// running (the converter's static liveness analysis, GraphComponent.peakLiveBytes). One rule,
// releasesBefore, decides what the engine releases before a phase; the estimates (memoryPlan,
// optionPeaks, npm run bench:memory) replay that same rule over the same phases.
import { graphVariant, type GraphComponent, type PackManifest, type WeightPrecision } from '../../packs/manifest.ts';
import { lavieOption, memoryFit, type ComputePrecision, type GenerateRequest, type LaVieOption, type OptionPeak, type Stage } from '../../protocol.ts';
import type { StageNetwork, StagePhase } from './cascade-stage.ts';
import { STAGES, planStages, probeRequest } from './plan.ts';

/**
 * How many bytes ORT keeps per stored weight byte. Without shader-f16 (fp32 compute) ORT folds the
 * Casts/DequantizeLinears of stored weights into fp32 constants (issue 20: fp16 → ×2, int8 → ×4);
 * int4 stays packed (MatMulNBits). fp16 compute keeps fp16 as is and casts fp32/int8 to fp16.
 */
const WEIGHT_EXPANSION: Record<ComputePrecision, Record<WeightPrecision, number>> = {
  fp32: { fp32: 1, fp16: 2, int8: 4, int4: 1 },
  fp16: { fp32: 0.5, fp16: 1, int8: 2, int4: 1 },
};

/** Bytes of `c`'s weights on the device once its session exists (graph + shards, as ORT keeps them). */
export function networkWeightBytes(c: GraphComponent, compute: ComputePrecision): number {
  const v = graphVariant(c, compute);
  const stored = c.externalData.reduce((s, f) => s + f.bytes, 0) + v.file.bytes;
  return Math.round(stored * WEIGHT_EXPANSION[v.compute][c.precision]);
}

/** Peak bytes of activations alive at once in one call of `c` (static liveness; the largest tensor × 3 for packs without it). */
export function networkActivationBytes(c: GraphComponent, compute: ComputePrecision): number {
  const v = graphVariant(c, compute).compute;
  return (v === 'fp16' ? c.peakLiveBytesF16 : undefined) ?? c.peakLiveBytes ?? 3 * (c.largestTensorBytes ?? 0);
}

/** The one network kept for the pack's lifetime whatever the budget (created at load; the tokenizer counts every prompt). */
export const residentNetworks = (m: PackManifest): StageNetwork[] => [{ name: 'base', c: m.components.textEncoder, text: true }];

/** How the engine names a created network (sessions by name, text encoders as text:<name>). */
export const networkKey = (n: StageNetwork): string => (n.text ? `text:${n.name}` : n.name);

/** What a phase needs on its own: its networks' and the resident ones' weights, and the largest activation set among them. */
export function phaseNeed(m: PackManifest, phase: StagePhase, compute: ComputePrecision): { weightBytes: number; activationBytes: number } {
  const nets = [...residentNetworks(m), ...phase.networks];
  return {
    weightBytes: nets.reduce((s, n) => s + networkWeightBytes(n.c, compute), 0),
    activationBytes: Math.max(0, ...nets.map((n) => networkActivationBytes(n.c, compute))),
  };
}

/** Networks created now: key → weight bytes on the device, least recently used first (Map order). */
export type HeldNetworks = ReadonlyMap<string, number>;

/**
 * THE release rule (the engine runs it before every phase; the estimates replay it). Release held
 * networks `phase` does not hold (never the resident ones) until what stays plus what the phase
 * needs fits `budgetBytes`: those needed latest first (none of the `later` phases: least recently
 * used first). An unbounded budget releases nothing.
 */
export function releasesBefore(m: PackManifest, held: HeldNetworks, phase: StagePhase, later: readonly StagePhase[], compute: ComputePrecision, budgetBytes: number): string[] {
  if (!Number.isFinite(budgetBytes)) return [];
  const own = new Set([...residentNetworks(m), ...phase.networks].map(networkKey));
  const need = phaseNeed(m, phase, compute);
  const nextUse = (k: string) => {
    const i = later.findIndex((p) => p.networks.some((n) => networkKey(n) === k));
    return i < 0 ? Infinity : i;
  };
  const others = [...held].filter(([k]) => !own.has(k)).map(([k, bytes], lru) => ({ k, bytes, lru, next: nextUse(k) }));
  others.sort((a, b) => (a.next !== b.next ? (a.next > b.next ? -1 : 1) : a.lru - b.lru));
  let kept = others.reduce((s, o) => s + o.bytes, 0);
  const out: string[] = [];
  for (const o of others) {
    if (kept + need.weightBytes + need.activationBytes <= budgetBytes) break;
    out.push(o.k);
    kept -= o.bytes;
  }
  return out;
}

/**
 * The phases after phase `i` as far as the rule can tell: the rest of this request, then the same
 * request again (the likeliest next one) — so among networks this request no longer needs, the
 * ones its next run needs last (e.g. the x4 text encoder) go first.
 */
export function laterPhases(phases: readonly StagePhase[], i: number): StagePhase[] {
  return i < 0 ? [] : [...phases.slice(i + 1), ...phases];
}

/** A phase of one request, with its stage. */
export interface PlannedPhase { stage: Stage; phase: StagePhase }

/** Every phase `req` runs on this pack, in order (stage plan → each stage's phases). */
export function requestPhases(m: PackManifest, req: GenerateRequest): PlannedPhase[] {
  return planStages(m, req).flatMap((p) => p.stage.phases(m, req, p.input).map((phase) => ({ stage: p.stage.name, phase })));
}

/** One phase as the engine runs it: what it released and created first, then what was live while its graphs ran. */
export interface PhaseMemory {
  stage: Stage;
  phase: string;
  released: string[];
  created: string[];
  /** Networks live during the phase, least recently used first. */
  live: string[];
  weightBytes: number;
  activationBytes: number;
  peakBytes: number;
}

/**
 * The engine's schedule over `phases`, replayed: from `held` (updated in place, so replays chain like
 * generations do), before each phase the rule's releases, then its missing networks created in order.
 */
export function replay(m: PackManifest, phases: readonly PlannedPhase[], compute: ComputePrecision, budgetBytes: number, held: Map<string, number>): PhaseMemory[] {
  return phases.map(({ stage, phase }, i) => {
    const released = releasesBefore(m, held, phase, laterPhases(phases.map((p) => p.phase), i), compute, budgetBytes);
    for (const k of released) held.delete(k);
    const created: string[] = [];
    for (const n of phase.networks) {
      const k = networkKey(n);
      if (!held.has(k)) created.push(k);
      held.delete(k); // re-insert: most recently used last
      held.set(k, networkWeightBytes(n.c, compute));
    }
    const weightBytes = [...held.values()].reduce((s, b) => s + b, 0);
    const { activationBytes } = phaseNeed(m, phase, compute);
    return { stage, phase: phase.name, released, created, live: [...held.keys()], weightBytes, activationBytes, peakBytes: weightBytes + activationBytes };
  });
}

/** Bytes with every network of `phases` (and the resident ones) kept at once. */
function keptBytes(m: PackManifest, phases: readonly PlannedPhase[], compute: ComputePrecision): number {
  const all = new Map<string, StageNetwork>();
  for (const n of [...residentNetworks(m), ...phases.flatMap((p) => p.phase.networks)]) all.set(networkKey(n), n);
  return [...all.values()].reduce((s, n) => s + networkWeightBytes(n.c, compute), 0)
    + Math.max(0, ...phases.map((p) => phaseNeed(m, p.phase, compute).activationBytes));
}

/**
 * The phases whose networks are created when the pack loads (with the resident ones): the base
 * stage's, and interpolation's too when base + interpolation fit `budgetBytes` all kept.
 */
export function loadPhases(m: PackManifest, compute: ComputePrecision, budgetBytes: number): PlannedPhase[] {
  const base = requestPhases(m, probeRequest(m));
  if (!STAGES.interp.offered(m)) return base;
  const both = requestPhases(m, probeRequest(m, { interpolate: true }));
  return keptBytes(m, both, compute) <= budgetBytes ? both : base;
}

/** What is held right after the pack loads (the engine creates the same, in this order). */
export function heldAfterLoad(m: PackManifest, compute: ComputePrecision, budgetBytes: number): Map<string, number> {
  const held = new Map(residentNetworks(m).map((n) => [networkKey(n), networkWeightBytes(n.c, compute)] as const));
  replay(m, loadPhases(m, compute, budgetBytes), compute, budgetBytes, held);
  return held;
}

/** The engine's schedule for `req` right after the pack loads (npm run bench:memory, tests). */
export function scheduleAfterLoad(m: PackManifest, req: GenerateRequest, compute: ComputePrecision, budgetBytes: number): PhaseMemory[] {
  return replay(m, requestPhases(m, req), compute, budgetBytes, heldAfterLoad(m, compute, budgetBytes));
}

/** The stage sets of LaVie's options 1–4 (base; + interpolation; + super-resolution; all three). */
export const LAVIE_OPTIONS: readonly { option: LaVieOption; interpolate: boolean; superResolve: boolean }[] = [
  { option: 1, interpolate: false, superResolve: false },
  { option: 2, interpolate: true, superResolve: false },
  { option: 3, interpolate: false, superResolve: true },
  { option: 4, interpolate: true, superResolve: true },
];

export interface MemoryPlan {
  /** The request's phases with everything the rule may release released (the lowest peak). */
  phases: PhaseMemory[];
  /** Its lowest peak: the largest phase with only its own (and the resident) networks. An option
   * fits a budget at or above it — the rule then keeps the engine within the budget. */
  peakBytes: number;
  /** Its peak with every network it uses kept loaded (no release needed when this fits). */
  keptBytes: number;
  budgetBytes: number;
  fits: boolean;
  /** When it does not fit: the option that does and keeps the most of the request's stages (null: none). */
  instead: OptionPeak | null;
}

function lowest(m: PackManifest, req: GenerateRequest, compute: ComputePrecision) {
  const phases = requestPhases(m, req);
  // A zero budget makes the rule release every network a phase does not hold.
  const held = new Map(residentNetworks(m).map((n) => [networkKey(n), networkWeightBytes(n.c, compute)] as const));
  const steps = replay(m, phases, compute, 0, held);
  return { phases: steps, peakBytes: Math.max(...steps.map((s) => s.peakBytes)), keptBytes: keptBytes(m, phases, compute) };
}

/** Lowest peak of each LaVie option the pack offers, for `req`'s other settings. */
export function optionPeaks(m: PackManifest, req: GenerateRequest, compute: ComputePrecision): OptionPeak[] {
  return LAVIE_OPTIONS.filter((o) => (!o.interpolate || STAGES.interp.offered(m)) && (!o.superResolve || STAGES.vsr.offered(m)))
    .map((o) => ({ option: o.option, peakBytes: lowest(m, { ...req, interpolate: o.interpolate, superResolve: o.superResolve }, compute).peakBytes }));
}

/** Whether `req` fits `budgetBytes` on this pack, and if not what to pick instead. */
export function memoryPlan(m: PackManifest, req: GenerateRequest, compute: ComputePrecision, budgetBytes: number): MemoryPlan {
  const { phases, peakBytes, keptBytes } = lowest(m, req, compute);
  const fit = memoryFit(optionPeaks(m, req, compute), lavieOption(req), budgetBytes);
  return { phases, peakBytes, keptBytes, budgetBytes, fits: fit.fits, instead: fit.instead };
}

/** GPU bytes the engine may hold: the user's setting, else what the device taught us (a failed
 * allocation's live bytes), else unbounded (Node, or no setting yet). */
export function memoryBudget(o: { settingGB?: number; learnedBytes?: number }): number {
  return Math.min(o.settingGB !== undefined ? o.settingGB * 1e9 : Infinity, o.learnedBytes ?? Infinity);
}
