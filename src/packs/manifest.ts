// The model pack manifest: what a pack contains and how the engine must use it. Packs are
// produced only by src/convert; the app reads them from the built-in folder, a URL or a local
// folder. Everything a manifest says is untrusted input: `parseManifest` checks every field
// (and that no path escapes the pack) before anything is fetched.
import { LIMITS, LaVieError, SAMPLERS, type ComputePrecision, type SamplerName } from '../protocol.ts';

export const PACK_FORMAT = 'lavie-web-pack';
export const PACK_VERSION = 1;

export type WeightPrecision = 'fp32' | 'fp16' | 'int8' | 'int4';
export type IoDType = 'float32' | 'float16' | 'int64' | 'int32';


export interface PackFile {
  /** Relative path inside the pack (forward slashes, no "..", not absolute). */
  path: string;
  bytes: number;
  /** Lower-case hex sha256 of the file. */
  sha256: string;
}

export interface IoSpec { name: string; dtype: IoDType; shape: number[] }

export interface GraphComponent {
  graph: PackFile;
  /**
   * The same network computing in float16, for adapters with `shader-f16`: same inputs, outputs
   * (float32) and weight shards as `graph` (one download of the weights serves both).
   */
  graphF16?: PackFile;
  /** Weight shards referenced by the graph as external data (each < 2 GB); location = file name. */
  externalData: PackFile[];
  precision: WeightPrecision;
  inputs: IoSpec[];
  outputs: IoSpec[];
  /** From the converter's static analysis: node count and the largest intermediate tensor (bytes). */
  nodes?: number;
  largestTensorBytes?: number;
  /** Static liveness (GraphBuilder.peakLiveBytes): peak bytes of activations alive at once in the
   * fp32-compute graph, and in the fp16-compute one. The memory budget's activation estimate. */
  peakLiveBytes?: number;
  peakLiveBytesF16?: number;
}

export interface TextEncoderComponent extends GraphComponent {
  /** Folder in transformers.js layout: <folder>/config.json + <folder>/onnx/model.onnx. */
  folder: string;
  config: PackFile;
  hiddenSize: number;
}

export interface BaseStage {
  /** Output video, pixels. */
  frames: number;
  height: number;
  width: number;
  fps: number;
  latent: { channels: number; frames: number; height: number; width: number };
  textLength: number;
  textDim: number;
  vaeScalingFactor: number;
  sampler: {
    default: SamplerName;
    steps: number;
    guidanceScale: number;
    numTrainTimesteps: number;
    betaStart: number;
    betaEnd: number;
    betaSchedule: 'linear' | 'scaled_linear';
  };
}

/** LaVie's temporal interpolation (LAVIE.md §8.2): base frames → 4·F − 3 frames at 24 fps. */
export interface InterpStage {
  frames: number;
  fps: number;
  latent: { channels: number; frames: number; height: number; width: number };
  /** Respaced DDIM steps (LaVie: 50) and guidance (LaVie: 4.0). */
  steps: number;
  guidanceScale: number;
  /** Appended to the prompt as LaVie's script does (", 4k."). */
  promptSuffix: string;
}

/** A fixed-size spatial tile and how much neighbouring tiles overlap (latent pixels). */
export interface TileSpec { height: number; width: number; overlap: number }

/** LaVie's video super-resolution (LAVIE.md §8.3): ×4 on independent 8-frame windows, tiled. */
export interface VsrStage {
  scale: number;
  windowFrames: number;
  /** Output video size. */
  height: number;
  width: number;
  /** Latent grid (= the low-res input's pixel grid). */
  latent: { channels: number; height: number; width: number };
  /** UNet tile and x4 VAE decoder tile on the latent grid, with their overlap. */
  tile: TileSpec;
  vaeTile: TileSpec;
  steps: number;
  guidanceScale: number;
  noiseLevel: number;
  negativePrompt: string;
  vaeScalingFactor: number;
  textDim: number;
}

export interface VsrComponents {
  tokenizer: { files: PackFile[] };
  textEncoder: TextEncoderComponent;
  /** UNet for a full window; inputs sample, low_res, timestep, class_labels, encoder_hidden_states. */
  unet: GraphComponent;
  /** UNets for shorter last windows (same weight shards as `unet`). */
  unetTails: (GraphComponent & { frames: number })[];
  vaeDecoder: GraphComponent;
}

/** How a fine-tuned SD-1.x checkpoint is applied to LaVie's spatial layers (README: Personalization). */
export const PERSONALIZE_MODES = ['replace', 'add-difference'] as const;
export type PersonalizeMode = (typeof PERSONALIZE_MODES)[number];

/** What personalized a pack: SD-1.x LoRAs with their multipliers and/or a fine-tuned checkpoint. */
export interface PackPersonalization {
  loras: { name: string; multiplier: number }[];
  checkpoint?: { name: string; mode: PersonalizeMode };
}

export interface PackManifest {
  format: typeof PACK_FORMAT;
  version: typeof PACK_VERSION;
  name: string;
  /** Random weights: the output is noise (the built-in demo pack). */
  testWeights: boolean;
  createdBy: string;
  components: {
    tokenizer: { files: PackFile[] };
    textEncoder: TextEncoderComponent;
    baseUnet: GraphComponent;
    /** Base UNets for longer videos (FreeNoise's windowed temporal attention), same weight shards as baseUnet. */
    longBaseUnets?: (GraphComponent & { frames: number })[];
    vaeDecoder: GraphComponent;
    vaeEncoder?: GraphComponent;
    /** Temporal interpolation UNet: inputs sample, condition, timestep, encoder_hidden_states. */
    interpUnet?: GraphComponent;
    vsr?: VsrComponents;
  };
  stages: { base: BaseStage; interp?: InterpStage; vsr?: VsrStage };
  /** Present when SD-1.x LoRAs or a fine-tuned checkpoint were merged into the weights. */
  personalization?: PackPersonalization;
  /** What the model is, for the app's banner (e.g. the LaVie-nano demo), and prompts it understands. */
  about?: PackAbout;
}

export interface PackAbout { description: string; examplePrompts: string[] }

export class ManifestError extends LaVieError {
  constructor(readonly field: string, message: string) {
    super('pack-invalid', `manifest.json: ${field}: ${message}`);
  }
}

// ---- validation ---------------------------------------------------------------------------------

type Obj = Record<string, unknown>;

function obj(v: unknown, f: string): Obj {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new ManifestError(f, 'must be an object');
  return v as Obj;
}
function str(v: unknown, f: string, max = 4096): string {
  if (typeof v !== 'string' || !v.length || v.length > max) throw new ManifestError(f, 'must be a non-empty string');
  return v;
}
function int(v: unknown, f: string, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw new ManifestError(f, `must be an integer in [${min}, ${max}]`);
  return v;
}
function num(v: unknown, f: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new ManifestError(f, 'must be a finite number');
  return v;
}
function oneOf<T extends string>(v: unknown, f: string, options: readonly T[]): T {
  if (typeof v !== 'string' || !options.includes(v as T)) throw new ManifestError(f, `must be one of ${options.join(', ')}`);
  return v as T;
}
function arr(v: unknown, f: string, max = 10_000): unknown[] {
  if (!Array.isArray(v) || v.length > max) throw new ManifestError(f, 'must be an array');
  return v;
}

/** A safe relative path: no scheme, no leading slash, no backslash, no "." or ".." segments. */
export function isSafeRelativePath(p: string): boolean {
  if (!p || p.length > 512 || p.startsWith('/') || p.includes('\\') || p.includes('\0') || /^[a-z][a-z0-9+.-]*:/i.test(p)) return false;
  return p.split('/').every((s) => s !== '' && s !== '.' && s !== '..');
}

function packFile(v: unknown, f: string): PackFile {
  const o = obj(v, f);
  const path = str(o.path, `${f}.path`, 512);
  if (!isSafeRelativePath(path)) throw new ManifestError(`${f}.path`, `"${path}" is not a safe relative path`);
  const sha256 = str(o.sha256, `${f}.sha256`);
  if (!/^[0-9a-f]{64}$/.test(sha256)) throw new ManifestError(`${f}.sha256`, 'must be 64 lower-case hex digits');
  return { path, bytes: int(o.bytes, `${f}.bytes`), sha256 };
}

function ioSpec(v: unknown, f: string): IoSpec {
  const o = obj(v, f);
  return {
    name: str(o.name, `${f}.name`, 256),
    dtype: oneOf(o.dtype, `${f}.dtype`, ['float32', 'float16', 'int64', 'int32'] as const),
    shape: arr(o.shape, `${f}.shape`, 8).map((d, i) => int(d, `${f}.shape[${i}]`, 1, 1 << 24)),
  };
}

function graphComponent(v: unknown, f: string): GraphComponent {
  const o = obj(v, f);
  return {
    graph: packFile(o.graph, `${f}.graph`),
    ...(o.graphF16 === undefined ? {} : { graphF16: packFile(o.graphF16, `${f}.graphF16`) }),
    externalData: arr(o.externalData, `${f}.externalData`, 64).map((x, i) => packFile(x, `${f}.externalData[${i}]`)),
    precision: oneOf(o.precision, `${f}.precision`, ['fp32', 'fp16', 'int8', 'int4'] as const),
    inputs: arr(o.inputs, `${f}.inputs`, 64).map((x, i) => ioSpec(x, `${f}.inputs[${i}]`)),
    outputs: arr(o.outputs, `${f}.outputs`, 64).map((x, i) => ioSpec(x, `${f}.outputs[${i}]`)),
    ...(o.nodes === undefined ? {} : { nodes: int(o.nodes, `${f}.nodes`, 0, 1e9) }),
    ...(o.largestTensorBytes === undefined ? {} : { largestTensorBytes: int(o.largestTensorBytes, `${f}.largestTensorBytes`, 0) }),
    ...(o.peakLiveBytes === undefined ? {} : { peakLiveBytes: int(o.peakLiveBytes, `${f}.peakLiveBytes`, 0) }),
    ...(o.peakLiveBytesF16 === undefined ? {} : { peakLiveBytesF16: int(o.peakLiveBytesF16, `${f}.peakLiveBytesF16`, 0) }),
  };
}

function packAbout(x: unknown): PackAbout {
  const a = obj(x, 'about');
  return { description: str(a.description, 'about.description', 300), examplePrompts: arr(a.examplePrompts, 'about.examplePrompts', 16).map((p, i) => str(p, `about.examplePrompts[${i}]`, LIMITS.promptChars)) };
}

export function parseManifest(json: unknown): PackManifest {
  const o = obj(json, '(root)');
  if (o.format !== PACK_FORMAT) throw new ManifestError('format', `must be "${PACK_FORMAT}"`);
  if (o.version !== PACK_VERSION) throw new ManifestError('version', `unsupported version ${String(o.version)} (this app reads ${PACK_VERSION})`);
  if (typeof o.testWeights !== 'boolean') throw new ManifestError('testWeights', 'must be a boolean');
  const c = obj(o.components, 'components');
  const te = obj(c.textEncoder, 'components.textEncoder');
  const folder = str(te.folder, 'components.textEncoder.folder', 256);
  if (!isSafeRelativePath(folder)) throw new ManifestError('components.textEncoder.folder', 'is not a safe relative path');
  const stages = obj(o.stages, 'stages');
  const s = obj(stages.base, 'stages.base');
  const lat = obj(s.latent, 'stages.base.latent');
  const smp = obj(s.sampler, 'stages.base.sampler');
  const m: PackManifest = {
    format: PACK_FORMAT,
    version: PACK_VERSION,
    name: str(o.name, 'name', 200),
    testWeights: o.testWeights,
    ...(o.about === undefined ? {} : { about: packAbout(o.about) }),
    createdBy: str(o.createdBy, 'createdBy', 200),
    components: {
      tokenizer: { files: arr(obj(c.tokenizer, 'components.tokenizer').files, 'components.tokenizer.files', 16).map((x, i) => packFile(x, `components.tokenizer.files[${i}]`)) },
      textEncoder: { ...graphComponent(te, 'components.textEncoder'), folder, config: packFile(te.config, 'components.textEncoder.config'), hiddenSize: int(te.hiddenSize, 'components.textEncoder.hiddenSize', 1, 65536) },
      baseUnet: graphComponent(c.baseUnet, 'components.baseUnet'),
      ...(c.longBaseUnets === undefined ? {} : { longBaseUnets: arr(c.longBaseUnets, 'components.longBaseUnets', 64).map((x, i) => ({ ...graphComponent(x, `components.longBaseUnets[${i}]`), frames: int(obj(x, `components.longBaseUnets[${i}]`).frames, `components.longBaseUnets[${i}].frames`, 1, 1024) })) }),
      vaeDecoder: graphComponent(c.vaeDecoder, 'components.vaeDecoder'),
      ...(c.vaeEncoder === undefined ? {} : { vaeEncoder: graphComponent(c.vaeEncoder, 'components.vaeEncoder') }),
      ...(c.interpUnet === undefined ? {} : { interpUnet: graphComponent(c.interpUnet, 'components.interpUnet') }),
      ...(c.vsr === undefined ? {} : { vsr: vsrComponents(c.vsr) }),
    },
    stages: {
      base: {
        frames: int(s.frames, 'stages.base.frames', 1, 1024),
        height: int(s.height, 'stages.base.height', 8, 16384),
        width: int(s.width, 'stages.base.width', 8, 16384),
        fps: num(s.fps, 'stages.base.fps'),
        latent: {
          channels: int(lat.channels, 'stages.base.latent.channels', 1, 64),
          frames: int(lat.frames, 'stages.base.latent.frames', 1, 1024),
          height: int(lat.height, 'stages.base.latent.height', 1, 4096),
          width: int(lat.width, 'stages.base.latent.width', 1, 4096),
        },
        textLength: int(s.textLength, 'stages.base.textLength', 1, 1024),
        textDim: int(s.textDim, 'stages.base.textDim', 1, 65536),
        vaeScalingFactor: num(s.vaeScalingFactor, 'stages.base.vaeScalingFactor'),
        sampler: {
          default: oneOf(smp.default, 'stages.base.sampler.default', SAMPLERS),
          steps: int(smp.steps, 'stages.base.sampler.steps', LIMITS.steps.min, LIMITS.steps.max),
          guidanceScale: num(smp.guidanceScale, 'stages.base.sampler.guidanceScale'),
          numTrainTimesteps: int(smp.numTrainTimesteps, 'stages.base.sampler.numTrainTimesteps', 1, 100_000),
          betaStart: num(smp.betaStart, 'stages.base.sampler.betaStart'),
          betaEnd: num(smp.betaEnd, 'stages.base.sampler.betaEnd'),
          betaSchedule: oneOf(smp.betaSchedule, 'stages.base.sampler.betaSchedule', ['linear', 'scaled_linear'] as const),
        },
      },
      ...(stages.interp === undefined ? {} : { interp: interpStage(stages.interp) }),
      ...(stages.vsr === undefined ? {} : { vsr: vsrStage(stages.vsr) }),
    },
  };
  if (o.personalization !== undefined) m.personalization = personalization(o.personalization);
  if (!!m.stages.vsr !== !!m.components.vsr) throw new ManifestError('stages.vsr', 'stages.vsr and components.vsr come together');
  if (m.stages.interp && (!m.components.interpUnet || !m.components.vaeEncoder)) throw new ManifestError('stages.interp', 'needs components.interpUnet and components.vaeEncoder');
  if (m.components.interpUnet && !m.stages.interp) throw new ManifestError('components.interpUnet', 'present without stages.interp');
  return m;
}

function personalization(v: unknown): PackPersonalization {
  const o = obj(v, 'personalization');
  const loras = arr(o.loras, 'personalization.loras', 64).map((x, i) => {
    const l = obj(x, `personalization.loras[${i}]`);
    return { name: str(l.name, `personalization.loras[${i}].name`, 256), multiplier: num(l.multiplier, `personalization.loras[${i}].multiplier`) };
  });
  if (o.checkpoint === undefined) return { loras };
  const c = obj(o.checkpoint, 'personalization.checkpoint');
  return { loras, checkpoint: { name: str(c.name, 'personalization.checkpoint.name', 256), mode: oneOf(c.mode, 'personalization.checkpoint.mode', PERSONALIZE_MODES) } };
}

function latentSpec(v: unknown, f: string): InterpStage['latent'] {
  const o = obj(v, f);
  return {
    channels: int(o.channels, `${f}.channels`, 1, 64),
    frames: int(o.frames, `${f}.frames`, 1, 1024),
    height: int(o.height, `${f}.height`, 1, 4096),
    width: int(o.width, `${f}.width`, 1, 4096),
  };
}

function textEncoderComponent(v: unknown, f: string): TextEncoderComponent {
  const te = obj(v, f);
  const folder = str(te.folder, `${f}.folder`, 256);
  if (!isSafeRelativePath(folder)) throw new ManifestError(`${f}.folder`, 'is not a safe relative path');
  return { ...graphComponent(te, f), folder, config: packFile(te.config, `${f}.config`), hiddenSize: int(te.hiddenSize, `${f}.hiddenSize`, 1, 65536) };
}

function vsrComponents(v: unknown): VsrComponents {
  const o = obj(v, 'components.vsr');
  return {
    tokenizer: { files: arr(obj(o.tokenizer, 'components.vsr.tokenizer').files, 'components.vsr.tokenizer.files', 16).map((x, i) => packFile(x, `components.vsr.tokenizer.files[${i}]`)) },
    textEncoder: textEncoderComponent(o.textEncoder, 'components.vsr.textEncoder'),
    unet: graphComponent(o.unet, 'components.vsr.unet'),
    unetTails: arr(o.unetTails, 'components.vsr.unetTails', 16).map((x, i) => ({ ...graphComponent(x, `components.vsr.unetTails[${i}]`), frames: int(obj(x, `components.vsr.unetTails[${i}]`).frames, `components.vsr.unetTails[${i}].frames`, 1, 64) })),
    vaeDecoder: graphComponent(o.vaeDecoder, 'components.vsr.vaeDecoder'),
  };
}

function tileSpec(v: unknown, f: string): TileSpec {
  const o = obj(v, f);
  return { height: int(o.height, `${f}.height`, 1, 4096), width: int(o.width, `${f}.width`, 1, 4096), overlap: int(o.overlap, `${f}.overlap`, 0, 4095) };
}

function vsrStage(v: unknown): VsrStage {
  const o = obj(v, 'stages.vsr');
  const lat = obj(o.latent, 'stages.vsr.latent');
  return {
    scale: int(o.scale, 'stages.vsr.scale', 1, 16),
    windowFrames: int(o.windowFrames, 'stages.vsr.windowFrames', 1, 64),
    height: int(o.height, 'stages.vsr.height', 8, 16384),
    width: int(o.width, 'stages.vsr.width', 8, 16384),
    latent: { channels: int(lat.channels, 'stages.vsr.latent.channels', 1, 64), height: int(lat.height, 'stages.vsr.latent.height', 1, 4096), width: int(lat.width, 'stages.vsr.latent.width', 1, 4096) },
    tile: tileSpec(o.tile, 'stages.vsr.tile'),
    vaeTile: tileSpec(o.vaeTile, 'stages.vsr.vaeTile'),
    steps: int(o.steps, 'stages.vsr.steps', LIMITS.steps.min, LIMITS.steps.max),
    guidanceScale: num(o.guidanceScale, 'stages.vsr.guidanceScale'),
    noiseLevel: int(o.noiseLevel, 'stages.vsr.noiseLevel', 0, 999),
    negativePrompt: typeof o.negativePrompt === 'string' && o.negativePrompt.length <= LIMITS.promptChars ? o.negativePrompt : (() => { throw new ManifestError('stages.vsr.negativePrompt', 'must be a string'); })(),
    vaeScalingFactor: num(o.vaeScalingFactor, 'stages.vsr.vaeScalingFactor'),
    textDim: int(o.textDim, 'stages.vsr.textDim', 1, 65536),
  };
}

function interpStage(v: unknown): InterpStage {
  const o = obj(v, 'stages.interp');
  return {
    frames: int(o.frames, 'stages.interp.frames', 1, 4096),
    fps: num(o.fps, 'stages.interp.fps'),
    latent: latentSpec(o.latent, 'stages.interp.latent'),
    steps: int(o.steps, 'stages.interp.steps', LIMITS.steps.min, LIMITS.steps.max),
    guidanceScale: num(o.guidanceScale, 'stages.interp.guidanceScale'),
    promptSuffix: typeof o.promptSuffix === 'string' && o.promptSuffix.length <= 200 ? o.promptSuffix : (() => { throw new ManifestError('stages.interp.promptSuffix', 'must be a string of at most 200 characters'); })(),
  };
}

/** The graph file to run for a compute precision: the fp16 variant when asked for and shipped, else the fp32 graph. */
export function graphVariant(c: GraphComponent, compute: ComputePrecision): { file: PackFile; compute: ComputePrecision } {
  return compute === 'fp16' && c.graphF16 ? { file: c.graphF16, compute: 'fp16' } : { file: c.graph, compute: 'fp32' };
}

/** Every file of a pack, for downloading, caching and size display. */
export function packFiles(m: PackManifest): PackFile[] {
  const c = m.components;
  const v = c.vsr;
  const graphs = [c.textEncoder, c.baseUnet, ...(c.longBaseUnets ?? []), c.vaeDecoder, c.vaeEncoder, c.interpUnet, v?.textEncoder, v?.unet, ...(v?.unetTails ?? []), v?.vaeDecoder].filter((g): g is GraphComponent => g !== undefined);
  const all = [...c.tokenizer.files, c.textEncoder.config, ...(v ? [...v.tokenizer.files, v.textEncoder.config] : []), ...graphs.flatMap((g) => [g.graph, ...(g.graphF16 ? [g.graphF16] : []), ...g.externalData])];
  // Graphs may share weight shards (VSR window lengths): count each file once.
  return [...new Map(all.map((f) => [f.path, f])).values()];
}

export function packBytes(m: PackManifest): number {
  return packFiles(m).reduce((s, f) => s + f.bytes, 0);
}
