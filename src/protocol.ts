// The typed messages between the app and the worker (and, via the embed bridge, a host page).
// With src/protocol/ (the request contract and the error codes) this is the whole contract: the UI
// never sees ORT, tensors or WGSL. Imports nothing outside src/protocol/.
import type { ErrorInfo } from './protocol/errors.ts';
import type { GenerateRequest, OptionPeak, SamplerDefaults } from './protocol/request.ts';

export * from './protocol/errors.ts';
export * from './protocol/request.ts';

/** Precision the networks compute in: fp16 on WebGPU adapters with shader-f16, else fp32. */
export type ComputePrecision = 'fp32' | 'fp16';

/** Where a model pack comes from. URL packs (and the built-in one) are downloaded once into the
 * browser's storage; local folders are read in place. */
export type PackRef =
  | { kind: 'builtin' } // the tiny demo pack generated at build time (test weights: output is noise)
  | { kind: 'url'; baseUrl: string } // <baseUrl>/manifest.json, e.g. a Hugging Face repo's resolve/main/
  | { kind: 'local'; name: string; dir?: FileSystemDirectoryHandle; files?: Record<string, File> }
  | { kind: 'stored'; key: string; name: string }; // a pack that exists only in this browser's storage (personalized from a stored one)

export interface PackInfo {
  name: string;
  /** Total bytes of the pack's files. */
  bytes: number;
  /** True for packs with random test weights. */
  testWeights: boolean;
  /** What the model is and prompts it understands (e.g. the LaVie-nano demo), when the pack says. */
  about?: { description: string; examplePrompts: string[] };
  /** Output of the base stage. */
  width: number;
  height: number;
  frames: number;
  fps: number;
  /** Base lengths the pack has graphs for (long videos; absent: `frames` only). */
  lengths?: number[];
  defaults: SamplerDefaults;
  /** Later stages this pack can run (absent: base only). VSR keeps the frame count and fps of its input. */
  stages: {
    interp?: StageVideo;
    vsr?: StageVideo & {
      scale: number;
      /** UNet tiles per window and step, steps per window. */
      tiles: number;
      steps: number;
      /** Largest intermediate tensor of the VSR graphs (static analysis at conversion), if known. */
      largestTensorBytes?: number;
      /** Cost of one VSR UNet call relative to one base UNet step (graph nodes), for estimates. */
      stepCost: number;
    };
  };
  /** Estimated GPU peak (bytes) of each LaVie option (1 base … 4 all stages) the pack offers, at its
   * default length, sessions released between stages as the memory budget needs (engine/stages/plan.ts). */
  memory?: OptionPeak[];
  /** The GPU adapter's buffer limits, when running on WebGPU. */
  adapter?: { maxBufferSize: number; maxStorageBufferBindingSize: number };
  /** Execution provider actually in use ('webgpu' | 'wasm' | 'cpu'). */
  device: string;
  /** Precision the networks compute in: fp16 on WebGPU adapters with shader-f16 (when the pack has fp16 graphs), else fp32. */
  compute: ComputePrecision;
}

/** The cascade's stages, in the order they run. */
export type Stage = 'base' | 'interp' | 'vsr';

/** The video a stage produces. */
export interface StageVideo { frames: number; width: number; height: number; fps: number }

/** A stage's work per phase, in units of one base UNet call (graph nodes as the proxy): what the app's
 * time estimate (src/app/eta.ts) scales by the device's measured rate. Text and video encoding are
 * not UNet-like work and are timed by the app on their own. */
export type StageWork = Partial<Record<'condition' | 'denoise' | 'decode', number>>;

/** A stage as a request will run it: its video and its work (plan.ts in the engine computes it). */
export interface StagePlan { stage: Stage; video: StageVideo; cost: number; work: StageWork }

/** The stages a request runs, in order. */
export function stagesOf(r: Pick<GenerateRequest, 'interpolate' | 'superResolve'>): Stage[] {
  return ['base', ...(r.interpolate ? ['interp' as const] : []), ...(r.superResolve ? ['vsr' as const] : [])];
}

export type Phase = 'download' | 'verify' | 'load' | 'text' | 'condition' | 'denoise' | 'decode' | 'encode';

/** Pack download details (phase 'download'; step/total are then bytes of the whole pack). */
export interface DownloadInfo { file: string; fileLoaded: number; fileBytes: number; filesDone: number; filesTotal: number; bytesPerSec?: number }

export interface ProgressInfo {
  /** Stage of the cascade this progress belongs to (absent while loading). */
  stage?: Stage;
  /** 1-based position of that stage among the stages of this request, and how many there are. */
  stageIndex?: number;
  stageCount?: number;
  phase: Phase;
  step: number;
  total: number;
  /** VSR: which 8-frame window and which spatial tile the step belongs to. */
  window?: number;
  windows?: number;
  tile?: number;
  tiles?: number;
  /** Interpolation of a long base video: which 16-frame segment (1-based) of how many; `step`/`total`
   * already count over all segments. */
  segment?: number;
  segments?: number;
  elapsedMs: number;
  download?: DownloadInfo;
  /** Estimated time left for the whole generation (or download), if known. */
  etaMs?: number;
}

export interface VideoMeta {
  frames: number;
  width: number;
  height: number;
  fps: number;
  codec: string;
  mimeType: string;
  seed: number;
  elapsedMs: number;
  /** Of elapsedMs, time spent awaiting ORT runs (instrumentation; see SessionCounters.runMs). */
  ortMs?: number;
  /** GPU buffers held on the engine's device (WebGPU only), as of this stage's end. */
  gpuMemory?: GpuMemoryReport;
}

/** Who created a GPU buffer: onnxruntime (sessions, its allocator, the text encoder) or our WGSL kernels' tensors. */
export type GpuMemoryOwner = 'ort' | 'kernels';
/** Pack load, then each stage of the latest generation. */
export type GpuMemoryPhase = 'load' | Stage;

/** Live and peak bytes of the GPU buffers on the engine's device (engine/runtime/gpu-memory.ts). */
export interface GpuMemoryReport {
  liveBytes: number;
  /** Highest live total since the device was created. */
  peakBytes: number;
  /** Buffers live now. */
  buffers: number;
  owners: Record<GpuMemoryOwner, { liveBytes: number; peakBytes: number }>;
  /** Per phase: the highest live total while it ran, and each owner's highest. */
  phases: Partial<Record<GpuMemoryPhase, { peakBytes: number; ort: number; kernels: number }>>;
}

export type WorkerRequest =
  | { type: 'load'; pack: PackRef }
  | { type: 'generate'; request: GenerateRequest }
  | { type: 'cancel'; id: string }
  /** How many CLIP tokens `text` takes (answered with 'tokens', at once, even during a generation). */
  | { type: 'count-tokens'; id: string; text: string }
  /** Stop a pack download/load in progress (finished files are kept; the partial one resumes next time). */
  | { type: 'cancel-load' }
  /** The stage plan of a request on the loaded pack (answered with 'plan', at once, even during a generation). */
  | { type: 'plan'; id: string; request: GenerateRequest };

export type WorkerEvent =
  | { type: 'loaded'; pack: PackInfo }
  | { type: 'progress'; id: string | null; progress: ProgressInfo }
  | { type: 'preview'; id: string; step: number; width: number; height: number; rgba: Uint8ClampedArray }
  /** One per stage as soon as that stage's video exists; `final` marks the last one of the request. */
  | { type: 'result'; id: string; video: Blob; meta: VideoMeta; stage: Stage; final: boolean }
  | { type: 'cancelled'; id: string }
  /** Text tokens of a 'count-tokens' request (start/end tokens not counted); null: no model loaded. */
  | { type: 'tokens'; id: string; count: number | null }
  /** Answer to 'plan'; null: no model loaded, or the pack cannot run the request. */
  | { type: 'plan'; id: string; stages: StagePlan[] | null }
  | { type: 'error'; id: string | null; error: ErrorInfo };
