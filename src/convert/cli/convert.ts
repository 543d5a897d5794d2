// npm run convert -- --from-hub --out <packDir> [--stages …] [--endpoint URL] [--revision REV] [--cache DIR]
//   (downloads the official files first; see from-hub.ts), or from local files:
// npm run convert -- --base <lavie_base.pt> --sd14 <stable-diffusion-v1-4 folder> --out <packDir>
//                    [--interp <lavie_interpolation.pt>]
//                    [--vsr <lavie_vsr.pt> --x4 <stable-diffusion-x4-upscaler folder> [--vsr-config <unet_3d_config.json>]]
//                    [--unet-precision fp32|fp16|int8|int4] [--vae-precision …] [--text-precision …]
//                    [--frames 16] [--long-frames all|24,32,…] [--latent 40x64] [--name "…"]
// Turns the official files into a LaVie Web pack (src/convert/official.ts does the work; this file
// only maps flags and paths onto it). The pack appears in --out only once it is complete.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { CheckpointError } from '../errors.ts';
import { WEIGHT_PRECISIONS, type WeightPrecision } from '../graphs/weights.ts';
import { convertOfficial, type ConvertOptions, type FileRef, type OfficialInputs, type PersonalizeInputs } from '../official.ts';
import { PERSONALIZE_MODES, type PersonalizeMode } from '../../packs/manifest.ts';
import { runCli } from './cli-util.ts';
import { convertFromHub } from './from-hub.ts';
import { longFramesArg } from './long-frames.ts';
import { dirPackSink, nodeFolder } from './node-io.ts';

export const USAGE = `usage: npm run convert -- --base <lavie_base.pt> --sd14 <stable-diffusion-v1-4 folder> --out <packDir> [options]
   or: npm run convert -- --from-hub --out <packDir> [hub options] [options]

Turns the official LaVie checkpoints and Stable Diffusion folders into a LaVie Web pack.

from the Hugging Face Hub (downloads only what the stages need; resumable, verified, cached):
  --from-hub                list and download YaohuiW/LaVie, CompVis/stable-diffusion-v1-4 and
                            stabilityai/stable-diffusion-x4-upscaler instead of --base/--sd14/…
  --stages <s>              base | base+interp | base+vsr | base+interp+vsr (default base)
  --endpoint <url>          Hub address (default $HF_ENDPOINT or https://huggingface.co); $HF_TOKEN is sent if set
  --revision <rev>          for every repo, or <repo>=<rev>,… (default main)
  --cache <dir>             where downloads are kept (default ~/.cache/lavie-web/hub)
  --retries <n>             attempts per request after a failure (default 5)

required:
  --base <file>             lavie_base.pt (its "ema" state dict) or a .safetensors state dict
  --sd14 <folder>           diffusers stable-diffusion-v1-4 folder (vae/, text_encoder/, tokenizer/)
  --out <dir>               pack folder to write (appears only once complete)
optional stages:
  --interp <file>           lavie_interpolation.pt (adds the smoother 61-frame stage)
  --vsr <file>              lavie_vsr.pt, with --x4 (adds the super-resolution stage)
  --x4 <folder>             stable-diffusion-x4-upscaler folder (vae/, text_encoder/, tokenizer/)
  --vsr-config <file>       the VSR UNet's unet_3d_config.json (default: LaVie's)
precision (${WEIGHT_PRECISIONS.join(' | ')}):
  --unet-precision <p>      UNet weights (default fp16)
  --vae-precision <p>       VAE weights (default fp32)
  --text-precision <p>      text encoder weights (default fp32)
personalization (SD-1.x; see README "Personalization"):
  --personalize <file|dir>  fine-tuned SD-1.x model: .safetensors / .ckpt (LDM layout) or a diffusers folder
  --mode <m>                replace | add-difference (default replace; add-difference uses --sd14's unet/)
  --lora <file>[:m]         SD-1.x LoRA (kohya or diffusers/PEFT) with multiplier m (default 1); repeatable
  --skip-unmatched          drop LoRA modules that match no spatial layer (default: refuse the LoRA)
shapes and name:
  --frames <n>              base frames (default 16)
  --long-frames <list>      long-video base lengths (FreeNoise): "all" (20, 24, …, 64) or e.g. 32,64;
                            one extra graph each on the same weights (default none)
  --latent <HxW>            base latent size (default 40x64 = a 320x512 video)
  --name <text>             pack name shown in the app (default "LaVie base")
  -h, --help                print this help`;

/** Flags of the conversion itself (shared with any other front end, e.g. a hub download). */
export const CONVERT_OPTIONS = ['name', 'unet-precision', 'vae-precision', 'text-precision', 'frames', 'long-frames', 'latent'] as const;

const precision = (v: string | undefined, flag: string): WeightPrecision | undefined => {
  if (v === undefined) return undefined;
  if (!WEIGHT_PRECISIONS.includes(v as WeightPrecision)) throw new Error(`${flag} must be one of ${WEIGHT_PRECISIONS.join(', ')}`);
  return v as WeightPrecision;
};

/** The conversion options common to local files and --from-hub. */
export function convertOptions(a: Record<string, string>): ConvertOptions {
  const [lh, lw] = (a.latent ?? '40x64').split('x').map(Number);
  const frames = Number(a.frames ?? 16);
  if (!lh || !lw || !Number.isInteger(frames) || frames < 1) throw new Error('--latent must look like 40x64 and --frames a positive integer');
  return {
    name: a.name,
    unetPrecision: precision(a['unet-precision'], '--unet-precision'),
    vaePrecision: precision(a['vae-precision'], '--vae-precision'),
    textPrecision: precision(a['text-precision'], '--text-precision'),
    frames,
    ...(a['long-frames'] ? { longFrames: longFramesArg(a['long-frames']) } : {}),
    latent: { height: lh, width: lw },
    log: (l) => console.log(l),
  };
}

function folder(path: string) {
  const dir = resolve(path);
  if (!existsSync(dir)) throw new CheckpointError('bad-format', `${dir}: no such folder`, { file: dir });
  return nodeFolder(dir);
}

const fileRef = (path: string): FileRef => {
  const p = resolve(path);
  return { folder: nodeFolder(dirname(p)), path: basename(p) };
};

export function vsrConfig(path: string | undefined): Record<string, unknown> | undefined {
  if (!path) return undefined;
  try {
    return JSON.parse(readFileSync(resolve(path), 'utf8'));
  } catch (e) {
    throw new CheckpointError('bad-format', `${path}: not valid JSON (${(e as Error).message})`, { file: path });
  }
}

/** `FILE` or `FILE:m` (m a number; a colon elsewhere stays part of the path); m defaults to 1. */
export function parseLoraArg(v: string): { file: string; multiplier: number } {
  const m = v.match(/^(.*):(-?[0-9]*\.?[0-9]+(?:e-?[0-9]+)?)$/i);
  return m ? { file: m[1]!, multiplier: Number(m[2]) } : { file: v, multiplier: 1 };
}

/** --personalize / --mode / --lora / --skip-unmatched as conversion inputs (undefined when none is given). */
export function personalizeInputs(a: Record<string, string>, loraArgs: readonly string[]): PersonalizeInputs | undefined {
  if (a.mode !== undefined && !a.personalize) throw new Error('--mode goes with --personalize');
  const loras = loraArgs.map(parseLoraArg);
  if (!a.personalize && !loras.length) return undefined;
  for (const l of loras) if (!existsSync(resolve(l.file))) throw new CheckpointError('bad-format', `${resolve(l.file)}: no such file`, { file: resolve(l.file) });
  const p: PersonalizeInputs = { loras: loras.map((l) => ({ file: fileRef(l.file), multiplier: l.multiplier })), skipUnmatched: a['skip-unmatched'] === 'true' };
  if (a.personalize) {
    const mode = (a.mode ?? 'replace') as PersonalizeMode;
    if (!PERSONALIZE_MODES.includes(mode)) throw new Error(`--mode must be one of ${PERSONALIZE_MODES.join(', ')}`);
    const path = resolve(a.personalize);
    if (!existsSync(path)) throw new CheckpointError('bad-format', `${path}: no such file or folder`, { file: path });
    p.checkpoint = { source: statSync(path).isDirectory() ? nodeFolder(path) : fileRef(path), mode };
  }
  return p;
}

async function convertLocal(a: Record<string, string>, loraArgs: readonly string[] = []): Promise<void> {
  if (!a.base || !a.sd14 || !a.out) throw new Error('--base, --sd14 and --out are required (see --help)');
  const personalize = personalizeInputs(a, loraArgs);
  if (!!a.vsr !== !!a.x4) throw new Error('--vsr and --x4 go together (lavie_vsr.pt and the stable-diffusion-x4-upscaler folder)');
  const inputs: OfficialInputs = {
    base: fileRef(a.base),
    sd14: folder(a.sd14),
    ...(a.interp ? { interp: fileRef(a.interp) } : {}),
    ...(a.vsr ? { vsr: { checkpoint: fileRef(a.vsr), x4: folder(a.x4!), config: vsrConfig(a['vsr-config']) } } : {}),
    ...(personalize ? { personalize } : {}),
  };
  const opts = convertOptions(a);
  const manifest = await convertOfficial(inputs, dirPackSink(resolve(a.out)), opts);
  console.log(`pack "${manifest.name}" written to ${resolve(a.out)}`);
}

if (process.argv[1] && resolve(process.argv[1]).endsWith('convert.ts')) {
  runCli({ usage: USAGE, options: ['base', 'sd14', 'out', 'interp', 'vsr', 'x4', 'vsr-config', 'personalize', 'mode', 'stages', 'endpoint', 'revision', 'cache', 'retries', ...CONVERT_OPTIONS], switches: ['skip-unmatched', 'from-hub'], repeatable: ['lora'] }, ({ opts, lists }) =>
    opts['from-hub'] ? convertFromHub(opts, convertOptions(opts), undefined, personalizeInputs(opts, lists.lora ?? [])) : convertLocal(opts, lists.lora));
}
