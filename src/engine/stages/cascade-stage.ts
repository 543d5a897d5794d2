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

/** What the engine lends a stage: the runtime, the pack, and resources kept for the pack's lifetime. */
export interface StageEnv {
  readonly rt: Runtime;
  readonly source: PackSource;
  /** The session of a pack component: created on first use, then kept (and counted). */
  session(name: string, c: GraphComponent): Promise<ModelSession>;
  /** The base text encoder (created at load). */
  readonly text: PromptEncoder;
  /** Another text encoder of the pack (e.g. VSR's x4 one): created on first use, then kept. */
  textEncoder(key: string, parts: TextEncoderParts): Promise<PromptEncoder>;
  embed(encoder: PromptEncoder, negative: string, prompt: string | PromptSchedule, halves: boolean): Promise<Embeddings>;
}

/** A network a stage runs: its session's name and pack component; `text`: a text encoder (env.textEncoder). */
export interface StageNetwork { readonly name: string; readonly c: GraphComponent; readonly text?: boolean }

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
  /** The networks this request's run of the stage uses (the engine's memory budget loads and
   * releases sessions by these; plan.ts estimates the stage's GPU memory from them). */
  networks(m: PackManifest, req: GenerateRequest): StageNetwork[];
  /** Sessions to create when the pack loads (stages without it create theirs on first use). */
  preload?(env: StageEnv): Promise<void>;
  run(env: StageEnv, run: StageRun): Promise<void>;
}

/** Cost of one call of `c` relative to one base UNet call. */
export function relativeCost(m: PackManifest, c: GraphComponent): number {
  return (c.nodes ?? 1) / (m.components.baseUnet.nodes ?? 1);
}
