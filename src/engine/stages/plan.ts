// Which stages a request runs on a pack, with each one's input and output video and cost: computed
// here and only here (the engine's loop, the PackInfo the UI shows, the worker's video sinks and
// codec checks all read it).
import { graphVariant, type GraphComponent, type PackManifest, type WeightPrecision } from '../../packs/manifest.ts';
import { BadRequestError, lavieOption, memoryFit, stagesOf, type ComputePrecision, type GenerateRequest, type LaVieOption, type OptionPeak, type Stage, type StageVideo, type StageWork } from '../../protocol.ts';
import { baseStage } from './base.ts';
import type { CascadeStage, StageNetwork } from './cascade-stage.ts';
import { interpStage } from './interp.ts';
import { vsrStage } from './vsr.ts';

/** Every stage the engine knows, by name. */
export const STAGES: Record<Stage, CascadeStage> = { base: baseStage, interp: interpStage, vsr: vsrStage };

const FIELD: Record<Stage, keyof GenerateRequest> = { base: 'prompt', interp: 'interpolate', vsr: 'superResolve' };
const LABEL: Record<Stage, string> = { base: 'base', interp: 'interpolation', vsr: 'super-resolution' };

/** A stage as one request runs it. */
export interface PlannedStage {
  readonly stage: CascadeStage;
  readonly input: StageVideo | null;
  readonly output: StageVideo;
  /** Work per phase and its sum, in units of one base UNet call. */
  readonly work: StageWork;
  readonly cost: number;
}

/** A stage's whole work (units of one base UNet call). */
export const costOf = (w: StageWork): number => (w.condition ?? 0) + (w.denoise ?? 0) + (w.decode ?? 0);

/** The stages `req` asks for on this pack, in order; a stage the pack lacks is a bad request. */
export function planStages(m: PackManifest, req: GenerateRequest): PlannedStage[] {
  let input: StageVideo | null = null;
  return stagesOf(req).map((name) => {
    const stage = STAGES[name];
    if (!stage.offered(m)) throw new BadRequestError(`This model pack has no ${LABEL[name]} stage.`, FIELD[name]);
    const work = stage.work(m, req, input);
    const planned: PlannedStage = { stage, input, output: stage.output(m, req, input), work, cost: costOf(work) };
    input = planned.output;
    return planned;
  });
}

// ---- GPU memory (issue 20 item 4) --------------------------------------------------------------
// A stage's peak on the device, estimated before it runs: the weights of every network it uses as
// ORT holds them, plus the largest activation set of one call (they run one at a time), from the
// converter's static liveness analysis (GraphComponent.peakLiveBytes). The base text encoder is
// created at load and kept, so it counts in every stage.

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

/** The one network kept for the pack's lifetime whatever the budget (created at load). */
export const residentNetworks = (m: PackManifest): StageNetwork[] => [{ name: 'base', c: m.components.textEncoder, text: true }];

export interface StageMemory { stage: Stage; weightBytes: number; activationBytes: number; peakBytes: number }

/** One stage's estimated peak when only its own networks (and the resident ones) are loaded. */
export function stageMemory(m: PackManifest, req: GenerateRequest, p: PlannedStage, compute: ComputePrecision): StageMemory {
  const nets = [...residentNetworks(m), ...p.stage.networks(m, req)];
  const weightBytes = nets.reduce((s, n) => s + networkWeightBytes(n.c, compute), 0);
  const activationBytes = Math.max(0, ...nets.map((n) => networkActivationBytes(n.c, compute)));
  return { stage: p.stage.name, weightBytes, activationBytes, peakBytes: weightBytes + activationBytes };
}

/** The stage sets of LaVie's options 1–4 (base; + interpolation; + super-resolution; all three). */
export const LAVIE_OPTIONS: readonly { option: LaVieOption; interpolate: boolean; superResolve: boolean }[] = [
  { option: 1, interpolate: false, superResolve: false },
  { option: 2, interpolate: true, superResolve: false },
  { option: 3, interpolate: false, superResolve: true },
  { option: 4, interpolate: true, superResolve: true },
];

export interface MemoryPlan {
  stages: StageMemory[];
  /** The request's peak with sessions released between stages as the budget requires. */
  peakBytes: number;
  /** Its peak with every network it uses kept loaded (no release needed when this fits). */
  keptBytes: number;
  budgetBytes: number;
  fits: boolean;
  /** When it does not fit: the option that does and keeps the most of the request's stages (null: none). */
  instead: OptionPeak | null;
}

function planPeak(m: PackManifest, req: GenerateRequest, compute: ComputePrecision) {
  const planned = planStages(m, req);
  const stages = planned.map((p) => stageMemory(m, req, p, compute));
  const all = new Map<GraphComponent, StageNetwork>();
  for (const n of [...residentNetworks(m), ...planned.flatMap((p) => p.stage.networks(m, req))]) all.set(n.c, n);
  const keptBytes = [...all.values()].reduce((s, n) => s + networkWeightBytes(n.c, compute), 0) + Math.max(...stages.map((s) => s.activationBytes));
  return { stages, peakBytes: Math.max(...stages.map((s) => s.peakBytes)), keptBytes };
}

/** Estimated peak of each LaVie option the pack offers, for `req`'s other settings. */
export function optionPeaks(m: PackManifest, req: GenerateRequest, compute: ComputePrecision): OptionPeak[] {
  return LAVIE_OPTIONS.filter((o) => (!o.interpolate || STAGES.interp.offered(m)) && (!o.superResolve || STAGES.vsr.offered(m)))
    .map((o) => ({ option: o.option, peakBytes: planPeak(m, { ...req, interpolate: o.interpolate, superResolve: o.superResolve }, compute).peakBytes }));
}

/** Whether `req` fits `budgetBytes` on this pack, and if not what to pick instead. */
export function memoryPlan(m: PackManifest, req: GenerateRequest, compute: ComputePrecision, budgetBytes: number): MemoryPlan {
  const { stages, peakBytes, keptBytes } = planPeak(m, req, compute);
  const fit = memoryFit(optionPeaks(m, req, compute), lavieOption(req), budgetBytes);
  return { stages, peakBytes, keptBytes, budgetBytes, fits: fit.fits, instead: fit.instead };
}

/** GPU bytes the engine may hold: the user's setting, else what the device taught us (a failed
 * allocation's live bytes), else unbounded (Node, or no setting yet). */
export function memoryBudget(o: { settingGB?: number; learnedBytes?: number }): number {
  return Math.min(o.settingGB !== undefined ? o.settingGB * 1e9 : Infinity, o.learnedBytes ?? Infinity);
}
