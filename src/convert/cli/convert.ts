// npm run convert -- --base <lavie_base.pt> --sd14 <stable-diffusion-v1-4 folder> --out <packDir>
//                    [--interp <lavie_interpolation.pt>]
//                    [--vsr <lavie_vsr.pt> --x4 <stable-diffusion-x4-upscaler folder> [--vsr-config <unet_3d_config.json>]]
//                    [--unet-precision fp32|fp16|int8|int4] [--vae-precision …] [--text-precision …]
//                    [--frames 16] [--latent 40x64] [--name "…"]
// Turns the official files into a LaVie Web pack: the base UNet from lavie_base.pt (its "ema"
// state dict, strictly matched), the SD-1.4 VAE, CLIP text encoder and tokenizer from the SD folder,
// and optionally the interpolation UNet (lavie_interpolation.pt) and the super-resolution stage
// (lavie_vsr.pt + the x4 upscaler's VAE, text encoder and tokenizer).
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CheckpointError } from '../errors.ts';
import { SD14_CLIP_TEXT_CONFIG, X4_CLIP_TEXT_CONFIG, type ClipTextConfig } from '../graphs/clip_text.ts';
import { LAVIE_VSR_UNET_CONFIG, type VsrUNetConfig } from '../graphs/vsr-unet.ts';
import { Params } from '../graphs/params.ts';
import { LAVIE_BASE_UNET_CONFIG, LAVIE_INTERP_UNET_CONFIG, type UNet3DConfig } from '../graphs/unet3d.ts';
import { SD14_VAE_CONFIG, X4_VAE_CONFIG, type VaeConfig } from '../graphs/vae.ts';
import { WEIGHT_PRECISIONS, type WeightPrecision } from '../graphs/weights.ts';
import { openCheckpoint } from '../io/checkpoint.ts';
import { writePack } from '../pack/write-pack.ts';
import { runCli } from './cli-util.ts';

function parseArgs(argv: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('--')) throw new Error(`unexpected argument "${a}"`);
    const v = argv[i + 1];
    if (v === undefined || v.startsWith('--')) throw new Error(`${a} needs a value`);
    out[a.slice(2)] = v;
    i++;
  }
  return out;
}

function firstExisting(dir: string, names: string[], what: string): string {
  for (const n of names) if (existsSync(join(dir, n))) return join(dir, n);
  throw new CheckpointError('missing-key', `${dir}: no ${what} (looked for ${names.join(', ')})`, { file: dir });
}

function readJson(path: string): Record<string, unknown> {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new CheckpointError('bad-format', `${path}: not valid JSON (${(e as Error).message})`, { file: path });
  }
}

const precision = (v: string | undefined, def: WeightPrecision, flag: string): WeightPrecision => {
  if (v === undefined) return def;
  if (!WEIGHT_PRECISIONS.includes(v as WeightPrecision)) throw new Error(`${flag} must be one of ${WEIGHT_PRECISIONS.join(', ')}`);
  return v as WeightPrecision;
};

/** LaVie builds its base UNet from SD-1.4's unet/config.json with 3-D block types (LAVIE.md §3.1). */
export function unetConfigFromSd14(sd: Record<string, unknown>): UNet3DConfig {
  const to3d = (l: unknown) => (Array.isArray(l) ? l.map((s) => String(s).replace('2D', '3D')) : l);
  return { ...LAVIE_BASE_UNET_CONFIG, ...sd, down_block_types: to3d(sd.down_block_types ?? LAVIE_BASE_UNET_CONFIG.down_block_types), up_block_types: to3d(sd.up_block_types ?? LAVIE_BASE_UNET_CONFIG.up_block_types), mid_block_type: 'UNetMidBlock3DCrossAttn', use_first_frame: false, use_relative_position: false } as UNet3DConfig;
}

/** lavie_vsr.pt (its "ema" dict, LAVIE.md §1.3) and the x4 upscaler folder's VAE, text encoder and tokenizer. */
function readVsrInputs(vsrPt: string, x4: string, configPath: string | undefined, unetP: WeightPrecision, vaeP: WeightPrecision, textP: WeightPrecision) {
  if (!existsSync(x4)) throw new CheckpointError('bad-format', `${x4}: no such folder`, { file: x4 });
  const cfg = (configPath ? { ...LAVIE_VSR_UNET_CONFIG, ...readJson(resolve(configPath)) } : LAVIE_VSR_UNET_CONFIG) as VsrUNetConfig;
  const vaeCfgPath = join(x4, 'vae/config.json');
  const vaeCfg = (existsSync(vaeCfgPath) ? { ...X4_VAE_CONFIG, ...readJson(vaeCfgPath) } : X4_VAE_CONFIG) as VaeConfig;
  const textCfgPath = join(x4, 'text_encoder/config.json');
  const textCfg = (existsSync(textCfgPath) ? { ...X4_CLIP_TEXT_CONFIG, ...readJson(textCfgPath) } : X4_CLIP_TEXT_CONFIG) as ClipTextConfig;
  const vaePath = firstExisting(join(x4, 'vae'), ['diffusion_pytorch_model.safetensors', 'diffusion_pytorch_model.bin'], 'x4 VAE weights');
  const textPath = firstExisting(join(x4, 'text_encoder'), ['model.safetensors', 'pytorch_model.bin'], 'x4 text encoder weights');
  firstExisting(join(x4, 'tokenizer'), ['vocab.json'], 'x4 tokenizer vocab.json');
  return {
    unet: { cfg, params: new Params(openCheckpoint(vsrPt), vsrPt), precision: unetP },
    vae: { cfg: vaeCfg, params: new Params(openCheckpoint(vaePath), vaePath), precision: vaeP },
    text: { cfg: textCfg, params: new Params(openCheckpoint(textPath), textPath), precision: textP },
    tokenizerDir: join(x4, 'tokenizer'),
  };
}

runCli('convert --base <lavie_base.pt> --sd14 <folder> --out <packDir>', async (argv) => {
  const a = parseArgs(argv);
  if (!a.base || !a.sd14 || !a.out) throw new Error('usage: convert --base <lavie_base.pt> --sd14 <stable-diffusion-v1-4 folder> --out <packDir> [--interp <lavie_interpolation.pt>] [--vsr <lavie_vsr.pt> --x4 <x4-upscaler folder>] [--unet-precision fp16] [--frames 16] [--latent 40x64]');
  const sd14 = resolve(a.sd14);
  if (!existsSync(sd14)) throw new CheckpointError('bad-format', `${sd14}: no such folder`, { file: sd14 });
  const [lh, lw] = (a.latent ?? '40x64').split('x').map(Number);
  const frames = Number(a.frames ?? 16);
  if (!lh || !lw || !Number.isInteger(frames) || frames < 1) throw new Error('--latent must look like 40x64 and --frames a positive integer');

  const unetCfgPath = join(sd14, 'unet/config.json');
  const unetCfg = existsSync(unetCfgPath) ? unetConfigFromSd14(readJson(unetCfgPath)) : LAVIE_BASE_UNET_CONFIG;
  const vaeCfgPath = join(sd14, 'vae/config.json');
  const vaeCfg = (existsSync(vaeCfgPath) ? { ...SD14_VAE_CONFIG, ...readJson(vaeCfgPath) } : SD14_VAE_CONFIG) as VaeConfig;
  const textCfgPath = join(sd14, 'text_encoder/config.json');
  const textCfg = (existsSync(textCfgPath) ? { ...SD14_CLIP_TEXT_CONFIG, ...readJson(textCfgPath) } : SD14_CLIP_TEXT_CONFIG) as ClipTextConfig;

  const basePath = resolve(a.base);
  const vaePath = firstExisting(join(sd14, 'vae'), ['diffusion_pytorch_model.safetensors', 'diffusion_pytorch_model.bin'], 'VAE weights');
  const textPath = firstExisting(join(sd14, 'text_encoder'), ['model.safetensors', 'pytorch_model.bin'], 'text encoder weights');
  firstExisting(join(sd14, 'tokenizer'), ['vocab.json'], 'tokenizer vocab.json');

  const interpPath = a.interp ? resolve(a.interp) : undefined;
  if (!!a.vsr !== !!a.x4) throw new Error('--vsr and --x4 go together (lavie_vsr.pt and the stable-diffusion-x4-upscaler folder)');
  const vsr = a.vsr ? readVsrInputs(resolve(a.vsr), resolve(a.x4!), a['vsr-config'], precision(a['unet-precision'], 'fp16', '--unet-precision'), precision(a['vae-precision'], 'fp32', '--vae-precision'), precision(a['text-precision'], 'fp32', '--text-precision')) : undefined;
  const manifest = writePack(resolve(a.out), {
    name: a.name ?? 'LaVie base',
    testWeights: false,
    unet: { cfg: unetCfg, params: new Params(openCheckpoint(basePath), basePath), precision: precision(a['unet-precision'], 'fp16', '--unet-precision') },
    vae: { cfg: vaeCfg, params: new Params(openCheckpoint(vaePath), vaePath), precision: precision(a['vae-precision'], 'fp32', '--vae-precision') },
    text: { cfg: textCfg, params: new Params(openCheckpoint(textPath), textPath), precision: precision(a['text-precision'], 'fp32', '--text-precision') },
    ...(interpPath ? { interp: { cfg: { ...unetCfg, in_channels: LAVIE_INTERP_UNET_CONFIG.in_channels, use_first_frame: true }, params: new Params(openCheckpoint(interpPath), interpPath), precision: precision(a['unet-precision'], 'fp16', '--unet-precision') } } : {}),
    ...(vsr ? { vsr } : {}),
    tokenizerDir: join(sd14, 'tokenizer'),
    latent: { frames, height: lh, width: lw },
    log: (l) => console.log(l),
  });
  console.log(`pack "${manifest.name}" written to ${resolve(a.out)}`);
});
