// The generation request: its fields, their limits and defaults, the one validation, seeds.
// The form (and its inputs' min/max/step), the app's store, the worker host, the embed bridge and
// the engine's noise all take their rules from here. Imports nothing outside src/protocol/.
// A new request field (e.g. long-video segments, a personalization choice) is one entry in
// GenerateRequest, one in LIMITS if it has bounds, and one rule in RULES (the compiler asks for it).
import { BadRequestError } from './errors.ts';

export type SamplerName = 'ddpm' | 'ddim' | 'euler' | 'dpm++2m';
export const SAMPLERS: readonly SamplerName[] = ['ddpm', 'ddim', 'euler', 'dpm++2m'];

export interface GenerateRequest {
  id: string;
  prompt: string;
  negativePrompt: string;
  seed: number;
  steps: number;
  guidanceScale: number;
  sampler: SamplerName;
  /** LaVie option 2: temporal interpolation to 4·F − 3 frames after the base stage. */
  interpolate?: boolean;
  /** LaVie option 3 (with `interpolate`: option 4): ×4 video super-resolution as the last stage. */
  superResolve?: boolean;
  /** Base video length (long videos with FreeNoise): LIMITS.frames; default LaVie's 16. */
  frames?: number;
  /** Several prompts over base-frame ranges (the base stage reads each range's; `prompt` names the video). */
  segments?: PromptSegment[];
  /** The user's "GPU memory" setting (GB): caps the engine's memory budget (sessions released to fit). */
  gpuMemoryGB?: GpuMemoryGB;
}

/** The "GPU memory" setting's choices, in GB (issue 20: most visitors' GPUs have 4–12 GB). */
export const GPU_MEMORY_CHOICES = [4, 8, 16] as const;
export type GpuMemoryGB = (typeof GPU_MEMORY_CHOICES)[number];

/** LaVie's options: 1 base, 2 + interpolation, 3 + super-resolution, 4 all three. */
export type LaVieOption = 1 | 2 | 3 | 4;
export const lavieOption = (r: { interpolate?: boolean; superResolve?: boolean }): LaVieOption => (1 + (r.interpolate ? 1 : 0) + (r.superResolve ? 2 : 0)) as LaVieOption;

/** An option's estimated GPU peak, every release made (engine/stages/memory.ts; PackInfo.memory). */
export interface OptionPeak { option: LaVieOption; peakBytes: number }

/**
 * The one fit rule (engine and app): whether `option` fits `budgetBytes`, and if not the option
 * that fits and keeps the most of its stages (never adding one; ties: the smaller peak), or null.
 */
export function memoryFit(peaks: readonly OptionPeak[], option: LaVieOption, budgetBytes: number): { fits: boolean; peakBytes: number; instead: OptionPeak | null } {
  const peakBytes = peaks.find((p) => p.option === option)?.peakBytes ?? Infinity;
  if (peakBytes <= budgetBytes) return { fits: true, peakBytes, instead: null };
  const bits = (o: LaVieOption) => o - 1; // bit 0: interpolation, bit 1: super-resolution
  const kept = (o: LaVieOption) => (bits(o) & 1) + (bits(o) >> 1);
  const instead = peaks
    .filter((p) => (bits(p.option) & ~bits(option)) === 0 && p.peakBytes <= budgetBytes)
    .sort((a, b) => kept(b.option) - kept(a.option) || a.peakBytes - b.peakBytes)[0] ?? null;
  return { fits: false, peakBytes, instead };
}

/** A prompt for base frames from … to, inclusive. */
export interface PromptSegment { prompt: string; from: number; to: number }

/** A request as a caller composes it: the worker client adds the id. */
export type RequestBody = Omit<GenerateRequest, 'id'>;

/** A numeric field's range, and the step the form's input offers. */
export interface NumberLimit { readonly min: number; readonly max: number; readonly step: number; readonly integer: boolean }

export const LIMITS = {
  /** CLIP's context length: a prompt becomes this many tokens, start and end tokens included;
   * text beyond it is cut (LaVie and Stable Diffusion do the same). */
  promptTokens: 77,
  /** Characters accepted for a prompt or negative prompt (far more than promptTokens can use). */
  promptChars: 2000,
  seed: { min: 0, max: 2 ** 32 - 1, step: 1, integer: true },
  steps: { min: 1, max: 1000, step: 1, integer: true },
  guidanceScale: { min: 0, max: 50, step: 0.5, integer: false },
  /** Base frames: LaVie's 16, longer with FreeNoise's 16-frame temporal windows at stride 4 (16 + 4k;
   * other lengths leave frames in no window). 64 as FreeNoise-LaVie's config: the UNet's cost is
   * linear in frames (4× LaVie's per step) and its peak activations at 64 are 2.75 GiB. */
  frames: { min: 16, max: 64, step: 4, integer: true },
  /** Frames of one prompt range: at least one temporal window, so each prompt shapes a window of its own. */
  segmentFrames: 16,
} as const satisfies Record<string, number | NumberLimit>;

/** Tokens of prompt text CLIP reads: the context minus its start and end tokens. */
export const PROMPT_TEXT_TOKENS = LIMITS.promptTokens - 2;

/** A pack's sampler defaults (PackInfo.defaults). */
export interface SamplerDefaults { steps: number; guidanceScale: number; sampler: SamplerName }

/** LaVie's base-stage settings: packs converted from LaVie carry them, and the form shows them
 * until a pack is loaded. */
export const LAVIE_DEFAULTS: SamplerDefaults = { steps: 50, guidanceScale: 7.5, sampler: 'ddpm' };

/** The sampler base videos longer than LIMITS.frames.min need (FreeNoise shapes only the initial
 * noise: a sampler drawing fresh noise every step undoes it); a caller who names none gets it. */
export const LONG_VIDEO_SAMPLER: SamplerName = 'ddim';

/** Whether a base length is a long (FreeNoise) video. */
export const isLongVideo = (frames: unknown): boolean => typeof frames === 'number' && frames > LIMITS.frames.min;

/** A uniformly random seed in LIMITS.seed. */
export function randomSeed(): number {
  return crypto.getRandomValues(new Uint32Array(1))[0]!;
}

/** The request's defaults for a pack: its sampler settings, no negative prompt, base stage only,
 * a random seed; for a long base video (`frames`, as asked) LONG_VIDEO_SAMPLER. */
export function requestDefaults(pack: SamplerDefaults, seed: () => number = randomSeed, frames?: unknown): Omit<RequestBody, 'prompt'> {
  return { negativePrompt: '', seed: seed(), steps: pack.steps, guidanceScale: pack.guidanceScale, sampler: isLongVideo(frames) ? LONG_VIDEO_SAMPLER : pack.sampler };
}

/** Fill the fields a caller left out with the pack's defaults; text is trimmed, stage flags kept only when set. */
export function withDefaults(r: Partial<RequestBody> & { prompt: string }, pack: SamplerDefaults, seed: () => number = randomSeed): RequestBody {
  const d = requestDefaults(pack, () => r.seed ?? seed(), r.frames);
  return {
    prompt: r.prompt.trim(),
    negativePrompt: (r.negativePrompt ?? d.negativePrompt).trim(),
    seed: d.seed,
    steps: r.steps ?? d.steps,
    guidanceScale: r.guidanceScale ?? d.guidanceScale,
    sampler: r.sampler ?? d.sampler,
    ...(r.interpolate ? { interpolate: true } : {}),
    ...(r.superResolve ? { superResolve: true } : {}),
    ...(r.frames !== undefined && r.frames !== LIMITS.frames.min ? { frames: r.frames } : {}),
    ...(r.segments ? { segments: r.segments.map((g) => ({ ...g, prompt: g.prompt.trim() })) } : {}),
    ...(r.gpuMemoryGB !== undefined ? { gpuMemoryGB: r.gpuMemoryGB } : {}),
  };
}

/** Which later stages a pack offers (PackInfo.stages): requests for others are refused. */
export interface StageOffer {
  stages: { interp?: unknown; vsr?: unknown };
  /** Base lengths the pack has graphs for (absent: LIMITS.frames.min only). */
  lengths?: readonly number[];
}

const LABEL: Record<keyof GenerateRequest, string> = {
  id: 'Request id', prompt: 'Prompt', negativePrompt: 'Negative prompt', seed: 'Seed', steps: 'Steps',
  guidanceScale: 'Guidance scale', sampler: 'Sampler', interpolate: 'Smoother', superResolve: 'High resolution',
  frames: 'Length', segments: 'Prompts over frame ranges', gpuMemoryGB: 'GPU memory',
};

const number = (lim: NumberLimit) => (v: unknown): string | null =>
  typeof v === 'number' && (lim.integer ? Number.isInteger(v) : Number.isFinite(v)) && v >= lim.min && v <= lim.max
    ? null
    : `must be ${lim.integer ? 'a whole number' : 'a number'} from ${lim.min} to ${lim.max}`;
const text = (required: boolean) => (v: unknown): string | null =>
  typeof v !== 'string' ? 'must be text'
  : required && !v.trim() ? 'is empty: describe the video you want'
  : v.length > LIMITS.promptChars ? `is longer than ${LIMITS.promptChars} characters`
  : null;
const flag = (offered: (p: StageOffer) => boolean) => (v: unknown, pack?: StageOffer): string | null =>
  v !== undefined && typeof v !== 'boolean' ? 'must be true or false'
  : v && pack && !offered(pack) ? 'is not offered by this model'
  : null;

/** Every base length above LaVie's 16 that FreeNoise allows (20, 24, …, LIMITS.frames.max): what
 * `npm run convert -- --long-frames all` and the demo pack build graphs for. */
export function longLengths(): number[] {
  const { min, max, step } = LIMITS.frames;
  return Array.from({ length: (max - min) / step }, (_, i) => min + step * (i + 1));
}

/** Why a base length cannot be built or asked for (the contract's rule), or null. */
export function framesProblem(v: unknown): string | null {
  const lim = LIMITS.frames;
  return number(lim)(v) || ((v as number) - lim.min) % lim.step ? `must be ${lim.min} + ${lim.step}·k frames, at most ${lim.max}` : null;
}

/** Frames of LaVie option 2's output for a base video of `base` frames (output frame n sits at base
 * time n/4; long videos keep it, src/engine/pipeline/interp-segments.ts): 16 → 61, 64 → 253. */
export function interpolatedFrames(base: number): number {
  return 4 * base - 3;
}

/** The base length a request asks for. */
export function requestFrames(r: { frames?: number }): number {
  return r.frames ?? LIMITS.frames.min;
}

const frames = (v: unknown, pack?: StageOffer, r?: Record<string, unknown>): string | null => {
  if (v === undefined) return null;
  const lim = LIMITS.frames;
  const bad = framesProblem(v);
  if (bad) return bad;
  if (pack && !(pack.lengths ?? [lim.min]).includes(v as number)) return `of ${v} frames is not offered by this model (${(pack.lengths ?? [lim.min]).join(', ')})`;
  if (isLongVideo(v as number) && r && r.sampler !== LONG_VIDEO_SAMPLER) return `above ${lim.min} frames needs the ${LONG_VIDEO_SAMPLER.toUpperCase()} sampler`;
  return null;
};

/** Why prompt ranges are wrong for a video of `total` frames: they must tile 0 … total − 1 in order. */
export function segmentsProblem(segments: readonly PromptSegment[], total: number): string | null {
  if (!segments.length || segments.length > LIMITS.frames.max / LIMITS.segmentFrames) return `must be 1 to ${LIMITS.frames.max / LIMITS.segmentFrames} ranges`;
  let next = 0;
  for (const [i, g] of segments.entries()) {
    const bad = text(true)(g?.prompt);
    if (bad) return `range ${i + 1}: the prompt ${bad}`;
    if (!Number.isInteger(g.from) || !Number.isInteger(g.to) || g.from !== next || g.to - g.from + 1 < LIMITS.segmentFrames) {
      return `range ${i + 1} must start at frame ${next} and span at least ${LIMITS.segmentFrames} frames`;
    }
    next = g.to + 1;
  }
  return next === total ? null : `cover frames 0–${next - 1}, the video has ${total}`;
}

/** One rule per field: a reason when the value is wrong, else null (`r`: the whole request, for rules across fields). */
const RULES: { [K in keyof GenerateRequest]-?: (v: unknown, pack?: StageOffer, r?: Record<string, unknown>) => string | null } = {
  id: (v) => (typeof v === 'string' && v.length > 0 ? null : 'is missing'),
  prompt: text(true),
  negativePrompt: text(false),
  seed: number(LIMITS.seed),
  steps: number(LIMITS.steps),
  guidanceScale: number(LIMITS.guidanceScale),
  sampler: (v) => ((SAMPLERS as readonly unknown[]).includes(v) ? null : `must be one of ${SAMPLERS.join(', ')}`),
  interpolate: flag((p) => !!p.stages.interp),
  superResolve: flag((p) => !!p.stages.vsr),
  frames,
  segments: (v, _pack, r) => (v === undefined ? null : !Array.isArray(v) ? 'must be a list' : segmentsProblem(v as PromptSegment[], requestFrames((r ?? {}) as { frames?: number }))),
  gpuMemoryGB: (v) => (v === undefined || (GPU_MEMORY_CHOICES as readonly unknown[]).includes(v) ? null : `must be one of ${GPU_MEMORY_CHOICES.join(', ')} GB`),
};

/** Every field a caller may set (all but the id), in the contract's order: e.g. what the embed accepts from a host. */
export const BODY_FIELDS = (Object.keys(RULES) as (keyof GenerateRequest)[]).filter((f): f is keyof RequestBody => f !== 'id');

/**
 * The one check of a request: the first field that breaks the contract, as a typed error (code
 * 'bad-request', with the field), or null. `pack`: also refuse stages the pack does not offer.
 * Without an id (a body the worker client will complete) only the body is checked.
 */
export function validateRequest(r: unknown, pack?: StageOffer, o: { needsId?: boolean } = {}): BadRequestError | null {
  if (typeof r !== 'object' || r === null) return new BadRequestError('The request must be an object.');
  const fields = Object.keys(RULES) as (keyof GenerateRequest)[];
  for (const f of fields) {
    if (f === 'id' && o.needsId === false) continue;
    const why = RULES[f]((r as Record<string, unknown>)[f], pack, r as Record<string, unknown>);
    if (why) return new BadRequestError(`${LABEL[f]} ${why}.`, f);
  }
  return null;
}

/** The seed as the noise generator takes it; anything outside LIMITS.seed is refused, not wrapped. */
export function checkSeed(seed: number): number {
  const why = RULES.seed(seed);
  if (why) throw new BadRequestError(`${LABEL.seed} ${why}.`, 'seed');
  return seed;
}
