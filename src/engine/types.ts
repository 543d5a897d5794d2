// What the worker needs from the engine. The engine is DOM-free; it yields decoded RGBA frames and
// the worker turns them into video (src/video).
import type { GenerateRequest, GpuMemoryReport, PackInfo, ProgressInfo, Stage, StagePlan, StageVideo } from '../protocol.ts';

export interface RgbaFrame {
  index: number;
  width: number;
  height: number;
  /** width·height·4 bytes, RGBA, row-major. */
  rgba: Uint8Array;
}

export interface PreviewImage { step: number; width: number; height: number; rgba: Uint8ClampedArray }

export interface GenerateHooks {
  signal: AbortSignal;
  onProgress(p: ProgressInfo): void;
  onPreview?(p: PreviewImage): void;
  /** A stage begins producing frames (the worker opens a video for it). */
  onStageStart?(stage: Stage, video: StageVideo): Promise<void> | void;
  /** Called once per decoded frame of the current stage, in order; the promise applies back-pressure. */
  onFrame(frame: RgbaFrame): Promise<void> | void;
  /** The current stage delivered all its frames (the worker finishes and shows its video). */
  onStageEnd?(stage: Stage): Promise<void> | void;
}

export type GenerationResult = StageVideo;

export type { StagePlan } from '../protocol.ts';

export interface GenerationEngine {
  readonly pack: PackInfo;
  /** Settles if the engine's GPU device is lost (then the engine is unusable). */
  readonly lost?: Promise<unknown>;
  /** Instrumentation (LaVieEngine): cumulative ORT run time, for the benchmark's phase breakdown. */
  readonly counters?: { runMs?: number };
  /** The stages `req` runs on this pack, in order (throws BadRequestError for a stage the pack lacks). */
  plan(req: GenerateRequest): StagePlan[];
  generate(req: GenerateRequest, hooks: GenerateHooks): Promise<GenerationResult>;
  /** Text tokens of a prompt (the UI's counter against the CLIP limit), if the engine can tell. */
  countTokens?(text: string): number;
  /** GPU buffers on the engine's device by owner and phase (WebGPU only). */
  gpuMemory?(): GpuMemoryReport | undefined;
  dispose(): Promise<void>;
}
