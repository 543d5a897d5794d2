// Convert LaVie's official files into a pack: the one entry point behind `npm run convert` (local
// files or --from-hub) and the browser's conversion worker. Inputs are folders (an SD-1.4 folder,
// the x4 upscaler folder, wherever lavie_*.pt live) read through SourceFolder; which files are read
// from each folder is listed once here (OFFICIAL_INPUTS), and the download catalogue uses the same
// lists. The base UNet comes from lavie_base.pt (its "ema" state dict, strictly matched), the
// SD-1.4 VAE, CLIP text encoder and tokenizer from the SD folder; optionally the interpolation UNet
// (lavie_interpolation.pt) and the super-resolution stage (lavie_vsr.pt + the x4 upscaler's VAE,
// text encoder and tokenizer).
import { SD14_CLIP_TEXT_CONFIG, X4_CLIP_TEXT_CONFIG, type ClipTextConfig } from './graphs/clip_text.ts';
import { Params } from './graphs/params.ts';
import { LAVIE_BASE_UNET_CONFIG, LAVIE_INTERP_UNET_CONFIG, type UNet3DConfig } from './graphs/unet3d.ts';
import { SD14_VAE_CONFIG, X4_VAE_CONFIG, type VaeConfig } from './graphs/vae.ts';
import { LAVIE_VSR_UNET_CONFIG, type VsrUNetConfig } from './graphs/vsr-unet.ts';
import type { WeightPrecision } from './graphs/weights.ts';
import { configOr, firstPresent, joinPath, readJson, type PackSink, type SourceFolder } from './io/bytes.ts';
import { openCheckpoint } from './io/checkpoint.ts';
import { writePack } from './pack/write-pack.ts';
import { readTokenizerFolder, TOKENIZER_FILES } from './tokenizer.ts';
import type { PackAbout, PackManifest, PersonalizeMode } from '../packs/manifest.ts';
import { personalize, type PersonalizeSpec } from './personalize/apply.ts';
import type { StateDict } from './tensor.ts';

/**
 * A file the conversion reads: the first of `oneOf` present in the folder; optional ones may be
 * absent. `weights` says which network's weights it holds (stored at that network's precision).
 */
export interface InputFile { oneOf: readonly string[]; optional?: boolean; weights?: 'unet' | 'vae' | 'text' }

const tokenizerInputs = (dir: string): InputFile[] => [
  ...TOKENIZER_FILES.required.map((f) => ({ oneOf: [`${dir}/${f}`] })),
  ...TOKENIZER_FILES.optional.map((f) => ({ oneOf: [`${dir}/${f}`], optional: true })),
];
const VAE_WEIGHTS = ['vae/diffusion_pytorch_model.safetensors', 'vae/diffusion_pytorch_model.bin'];
const UNET_WEIGHTS = ['unet/diffusion_pytorch_model.safetensors', 'unet/diffusion_pytorch_model.bin'];
const TEXT_WEIGHTS = ['text_encoder/model.safetensors', 'text_encoder/pytorch_model.bin'];

/** Every file the conversion reads, per input folder (safetensors preferred over .bin when both exist). */
export const OFFICIAL_INPUTS = {
  /** stable-diffusion-v1-4: LaVie builds its UNets from unet/config.json (LAVIE.md §3.1). */
  sd14: [
    { oneOf: ['unet/config.json'], optional: true },
    { oneOf: ['vae/config.json'], optional: true },
    { oneOf: VAE_WEIGHTS, weights: 'vae' },
    { oneOf: ['text_encoder/config.json'], optional: true },
    { oneOf: TEXT_WEIGHTS, weights: 'text' },
    ...tokenizerInputs('tokenizer'),
  ],
  /** stable-diffusion-x4-upscaler: the VSR stage's VAE, text encoder and tokenizer. */
  x4: [
    { oneOf: ['vae/config.json'], optional: true },
    { oneOf: VAE_WEIGHTS, weights: 'vae' },
    { oneOf: ['text_encoder/config.json'], optional: true },
    { oneOf: TEXT_WEIGHTS, weights: 'text' },
    ...tokenizerInputs('tokenizer'),
  ],
  /** YaohuiW/LaVie: one checkpoint per UNet. */
  base: [{ oneOf: ['lavie_base.pt'], weights: 'unet' }],
  interp: [{ oneOf: ['lavie_interpolation.pt'], weights: 'unet' }],
  vsr: [{ oneOf: ['lavie_vsr.pt'], weights: 'unet' }],
} as const satisfies Record<string, readonly InputFile[]>;

/** The paths of `inputs` a folder listing provides (the first present of each), and which required ones it lacks. */
export function pickInputs(inputs: readonly InputFile[], has: (path: string) => boolean): { paths: string[]; missing: string[] } {
  const paths: string[] = [];
  const missing: string[] = [];
  for (const f of inputs) {
    const p = f.oneOf.find(has);
    if (p) paths.push(p);
    else if (!f.optional) missing.push(f.oneOf.join(' or '));
  }
  return { paths, missing };
}

/** One checkpoint file inside a folder. */
export interface FileRef { folder: SourceFolder; path: string }

export interface OfficialInputs {
  base: FileRef;
  sd14: SourceFolder;
  interp?: FileRef;
  vsr?: { checkpoint: FileRef; x4: SourceFolder; /** LaVie's VSR UNet config (unet_3d_config.json), if not the default. */ config?: Record<string, unknown> };
  /** SD-1.x personalization merged into the base UNet and the text encoder (README: Personalization). */
  personalize?: PersonalizeInputs;
}

export interface PersonalizeInputs {
  /** A fine-tuned SD-1.x model: a single file (.safetensors / .ckpt) or a diffusers folder. */
  checkpoint?: { source: FileRef | SourceFolder; mode: PersonalizeMode };
  loras?: { file: FileRef; multiplier: number }[];
  skipUnmatched?: boolean;
}

export interface ConvertOptions {
  name?: string;
  unetPrecision?: WeightPrecision;
  vaePrecision?: WeightPrecision;
  textPrecision?: WeightPrecision;
  /** Base-stage latent video (default 16 frames of 40×64). */
  frames?: number;
  /** Extra base lengths for long videos (FreeNoise; 16 + 4k up to LIMITS.frames.max). */
  longFrames?: number[];
  latent?: { height: number; width: number };
  /** Banner text and example prompts (manifest.about), e.g. for the LaVie-nano demo pack. */
  about?: PackAbout;
  /** Default base steps shown in the app (default LaVie's 50). */
  defaultSteps?: number;
  log?: (line: string) => void;
}

/** The defaults of `npm run convert`: UNets in fp16, VAE and text encoder in fp32. */
export const DEFAULT_PRECISIONS = { unet: 'fp16', vae: 'fp32', text: 'fp32' } as const satisfies Record<string, WeightPrecision>;

/** LaVie builds its base UNet from SD-1.4's unet/config.json with 3-D block types (LAVIE.md §3.1). */
export function unetConfigFromSd14(sd: Record<string, unknown>): UNet3DConfig {
  const to3d = (l: unknown) => (Array.isArray(l) ? l.map((s) => String(s).replace('2D', '3D')) : l);
  return { ...LAVIE_BASE_UNET_CONFIG, ...sd, down_block_types: to3d(sd.down_block_types ?? LAVIE_BASE_UNET_CONFIG.down_block_types), up_block_types: to3d(sd.up_block_types ?? LAVIE_BASE_UNET_CONFIG.up_block_types), mid_block_type: 'UNetMidBlock3DCrossAttn', use_first_frame: false, use_relative_position: false } as UNet3DConfig;
}

async function params(ref: FileRef): Promise<Params> {
  const name = joinPath(ref.folder.name, ref.path);
  return new Params(await stateDict(ref), name);
}

async function stateDict(ref: FileRef): Promise<StateDict> {
  return openCheckpoint(await ref.folder.open(ref.path), joinPath(ref.folder.name, ref.path));
}

const isFileRef = (s: FileRef | SourceFolder): s is FileRef => 'folder' in s && 'path' in s;

/** Open the personalization files (lazily: tensors are read while the pack is written). */
export async function personalizeSpec(p: PersonalizeInputs, sd14: SourceFolder): Promise<PersonalizeSpec> {
  const spec: PersonalizeSpec = { skipUnmatched: p.skipUnmatched, loras: [] };
  for (const l of p.loras ?? []) spec.loras!.push({ name: l.file.path, sd: await stateDict(l.file), multiplier: l.multiplier });
  const c = p.checkpoint;
  if (c) {
    if (isFileRef(c.source)) {
      spec.checkpoint = { name: c.source.path, mode: c.mode, file: await stateDict(c.source) };
    } else {
      const f = c.source;
      const part = async (names: readonly string[], what: string, optional: boolean) => {
        const path = names.find((n) => f.has(n));
        if (!path && !optional) firstPresent(f, '', names, what);
        return path ? stateDict({ folder: f, path }) : undefined;
      };
      const unet = (await part(UNET_WEIGHTS, 'fine-tuned UNet weights', false))!;
      const text = await part(TEXT_WEIGHTS, '', true);
      const vae = await part(VAE_WEIGHTS, '', true);
      spec.checkpoint = { name: f.name.split('/').filter(Boolean).pop() ?? f.name, mode: c.mode, parts: { unet, ...(text ? { text } : {}), ...(vae ? { vae } : {}) } };
    }
    if (c.mode === 'add-difference') {
      const path = firstPresent(sd14, '', UNET_WEIGHTS, 'SD-1.4 UNet weights (add-difference subtracts them)');
      spec.sdBase = { name: joinPath(sd14.name, path), sd: await stateDict({ folder: sd14, path }) };
    }
  }
  return spec;
}

/** The VAE, text encoder and tokenizer of an SD-style folder (configs merged over `defaults`). */
async function sdParts(folder: SourceFolder, vaeDefaults: VaeConfig, textDefaults: ClipTextConfig, what: string) {
  const vaePath = firstPresent(folder, '', VAE_WEIGHTS, `${what} VAE weights`);
  const textPath = firstPresent(folder, '', TEXT_WEIGHTS, `${what} text encoder weights`);
  firstPresent(folder, 'tokenizer', ['vocab.json'], `${what} tokenizer vocab.json`);
  return {
    vaeCfg: await configOr(folder, 'vae/config.json', vaeDefaults),
    textCfg: await configOr(folder, 'text_encoder/config.json', textDefaults),
    vae: await params({ folder, path: vaePath }),
    text: await params({ folder, path: textPath }),
    tokenizer: await readTokenizerFolder(folder, 'tokenizer'),
  };
}

/** Convert and write the pack into `sink` (committed only when complete). */
export async function convertOfficial(inputs: OfficialInputs, sink: PackSink, o: ConvertOptions = {}): Promise<PackManifest> {
  const unetP = o.unetPrecision ?? DEFAULT_PRECISIONS.unet;
  const vaeP = o.vaePrecision ?? DEFAULT_PRECISIONS.vae;
  const textP = o.textPrecision ?? DEFAULT_PRECISIONS.text;
  const sd14 = inputs.sd14;
  const unetCfg = sd14.has('unet/config.json') ? unetConfigFromSd14(await readJson(sd14, 'unet/config.json')) : LAVIE_BASE_UNET_CONFIG;
  const sd = await sdParts(sd14, SD14_VAE_CONFIG, SD14_CLIP_TEXT_CONFIG, 'SD-1.4');
  const vsr = inputs.vsr ? await (async (v) => {
    const x4 = await sdParts(v.x4, X4_VAE_CONFIG, X4_CLIP_TEXT_CONFIG, 'x4 upscaler');
    const cfg = (v.config ? { ...LAVIE_VSR_UNET_CONFIG, ...v.config } : LAVIE_VSR_UNET_CONFIG) as VsrUNetConfig;
    return {
      unet: { cfg, params: await params(v.checkpoint), precision: unetP },
      vae: { cfg: x4.vaeCfg, params: x4.vae, precision: vaeP },
      text: { cfg: x4.textCfg, params: x4.text, precision: textP },
      tokenizer: x4.tokenizer,
    };
  })(inputs.vsr) : undefined;
  let unet = await params(inputs.base);
  let personalization: PackManifest['personalization'];
  if (inputs.personalize) {
    const p = personalize({ unet: unet.sd, unetConfig: unetCfg, text: sd.text.sd, vae: sd.vae.sd }, await personalizeSpec(inputs.personalize, sd14));
    unet = new Params(p.unet, unet.file);
    sd.text = new Params(p.text, sd.text.file);
    sd.vae = new Params(p.vae ?? sd.vae.sd, sd.vae.file);
    personalization = p.record;
    for (const l of p.lines) o.log?.(`personalize: ${l}`);
  }
  return writePack(sink, {
    name: o.name ?? (personalization ? 'LaVie base (personalized)' : 'LaVie base'),
    ...(personalization ? { personalization } : {}),
    ...(o.about ? { about: o.about } : {}),
    ...(o.defaultSteps ? { defaultSteps: o.defaultSteps } : {}),
    testWeights: false,
    unet: { cfg: unetCfg, params: unet, precision: unetP },
    vae: { cfg: sd.vaeCfg, params: sd.vae, precision: vaeP },
    text: { cfg: sd.textCfg, params: sd.text, precision: textP },
    ...(inputs.interp ? { interp: { cfg: { ...unetCfg, in_channels: LAVIE_INTERP_UNET_CONFIG.in_channels, use_first_frame: true }, params: await params(inputs.interp), precision: unetP } } : {}),
    ...(vsr ? { vsr } : {}),
    tokenizer: sd.tokenizer,
    latent: { frames: o.frames ?? 16, height: o.latent?.height ?? 40, width: o.latent?.width ?? 64 },
    ...(o.longFrames?.length ? { longFrames: o.longFrames } : {}),
    log: o.log,
  });
}
