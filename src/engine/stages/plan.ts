// Which stages a request runs on a pack, with each one's input and output video and cost: computed
// here and only here (the engine's loop, the PackInfo the UI shows, the worker's video sinks and
// codec checks all read it).
import type { PackManifest } from '../../packs/manifest.ts';
import { BadRequestError, stagesOf, type GenerateRequest, type Stage, type StageVideo, type StageWork } from '../../protocol.ts';
import { baseStage } from './base.ts';
import type { CascadeStage } from './cascade-stage.ts';
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

/** A request with the pack's defaults (sizes, cost and memory of an option before any real request). */
export function probeRequest(m: PackManifest, over: Partial<GenerateRequest> = {}): GenerateRequest {
  const b = m.stages.base;
  return { id: '', prompt: '', negativePrompt: '', seed: 0, steps: b.sampler.steps, guidanceScale: b.sampler.guidanceScale, sampler: b.sampler.default, ...over };
}
