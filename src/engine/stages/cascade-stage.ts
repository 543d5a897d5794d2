// A stage of the cascade as data: what it takes and makes (video sizes), what it costs, whether a
// pack has it, and how it runs. The engine's generate is a loop over the planned stages (plan.ts);
// a new kind of stage (long-video base, segmented interpolation, a personalized pack's variant) is
// a new CascadeStage or a change inside one — never an edit of that loop.
import type { GraphComponent, PackManifest } from '../../packs/manifest.ts';
import type { PackSource } from '../../packs/pack-source.ts';
import type { GenerateRequest, Stage, StageVideo, StageWork } from '../../protocol.ts';
import type { StageProgress } from '../pipeline/stage.ts';
import type { PromptSchedule } from '../prompt-schedule.ts';
import type { DeviceTensor } from '../runtime/device.ts';
import type { ModelSession, Runtime } from '../runtime/runtime.ts';
import type { PromptEncoder, TextEncoderParts } from '../text/text-encoder.ts';
import type { PreviewImage, RgbaFrame } from '../types.ts';

/** Text embeddings [2, L, D] = [negative, prompt] on the device, and for UNets that run the two
 * CFG branches as separate calls also each as [1, L, D]; for a prompt schedule (per-frame-text
 * graphs) [2·F, L, D] and halves [F, L, D]. */
export interface Embeddings { pair: DeviceTensor; halves?: { uncond: DeviceTensor; cond: DeviceTensor }; free(): void }

/** What the engine lends a stage: the runtime, the pack, and its networks phase by phase. */
export interface StageEnv {
  readonly rt: Runtime;
  readonly source: PackSource;
  /**
   * Start `phase`: the engine releases networks this phase does not hold when the memory budget
   * requires it (memory.ts: releasesBefore), then creates the phase's missing ones in order. The
   * sessions it returns are valid until the stage enters another phase.
   */
  enter(phase: StagePhase): Promise<PhaseNetworks>;
  /** The base text encoder (created at load, kept for the pack's lifetime). */
  readonly text: PromptEncoder;
  embed(encoder: PromptEncoder, negative: string, prompt: string | PromptSchedule, halves: boolean): Promise<Embeddings>;
}

/** A network a stage runs: its session's name and pack component; `text`: a text encoder, created from `parts`. */
export interface StageNetwork { readonly name: string; readonly c: GraphComponent; readonly text?: boolean; readonly parts?: TextEncoderParts }

/**
 * A span of a stage's run that holds a fixed set of networks (one of them runs at a time). The one
 * description of GPU memory over time: the engine loads and releases sessions by it, and the
 * estimate (memory.ts, npm run bench:memory) adds up the same sets.
 */
export interface StagePhase { readonly name: string; readonly networks: readonly StageNetwork[] }

/** The networks of an entered phase, by name. */
export interface PhaseNetworks { session(name: string): ModelSession; encoder(name: string): PromptEncoder }

/** One run of a stage. */
export interface StageRun {
  readonly req: GenerateRequest;
  /** The previous stage's video and frames (null and empty for the first stage). */
  readonly inputVideo: StageVideo | null;
  readonly input: readonly RgbaFrame[];
  /** The video this run must deliver, frame by frame through onFrame. */
  readonly output: StageVideo;
  /** This stage's seeded noise streams (disjoint from every other stage's). */
  noise(stream: number, count: number): Float32Array;
  readonly signal: AbortSignal;
  onProgress(p: StageProgress): void;
  onPreview?(p: PreviewImage): void;
  onFrame(f: RgbaFrame): Promise<void>;
}

export interface CascadeStage {
  readonly name: Stage;
  /** Whether the pack has this stage (its settings and networks): the one check of what a pack offers. */
  offered(m: PackManifest): boolean;
  /** The video it makes for this request from its input (null: it starts the cascade). */
  output(m: PackManifest, req: GenerateRequest, input: StageVideo | null): StageVideo;
  /** Work per phase in units of one base UNet call (graph nodes as the proxy), for time estimates. */
  work(m: PackManifest, req: GenerateRequest, input: StageVideo | null): StageWork;
  /** The phases of this request's run of the stage, in order, from its input video (memory.ts). */
  phases(m: PackManifest, req: GenerateRequest, input: StageVideo | null): StagePhase[];
  run(env: StageEnv, run: StageRun): Promise<void>;
}

/** Cost of one call of `c` relative to one base UNet call. */
export function relativeCost(m: PackManifest, c: GraphComponent): number {
  return (c.nodes ?? 1) / (m.components.baseUnet.nodes ?? 1);
}
