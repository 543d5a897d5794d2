// Official-format inputs at tiny size with random weights, laid out exactly like the downloads:
// lavie_base.pt / lavie_interpolation.pt / lavie_vsr.pt as torch.save zips wrapped in {"ema": …},
// the stable-diffusion-v1-4 and x4-upscaler folders with diffusers configs, safetensors weights and
// the CLIP tokenizer files, plus LaVie's VSR config JSON (unet_3d_config.json).
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { TINY_LATENT, TINY_UNET, TINY_VAE, TINY_VSR_UNET, TINY_X4_VAE, tinyClipConfig } from '../../src/convert/cli/make-tiny-pack.ts';
import { writeStateDictSafetensorsFile, writeSyntheticTokenizerFolder, writeTorchCheckpointFile } from '../../src/convert/cli/node-io.ts';
import { buildClipText } from '../../src/convert/graphs/clip_text.ts';
import { buildBaseUNet, buildInterpUNet } from '../../src/convert/graphs/unet3d.ts';
import { buildVaeDecoder, buildVaeEncoder } from '../../src/convert/graphs/vae.ts';
import { buildVsrUNet } from '../../src/convert/graphs/vsr-unet.ts';
import { syntheticStateDict } from '../../src/convert/synthetic.ts';

export interface TinyOfficialFiles { lavie: string; sd14: string; x4: string; basePt: string; interpPt: string; vsrPt: string; vsrConfig: string }

/** Writes under `root`: lavie/ (the three .pt), stable-diffusion-v1-4/, stable-diffusion-x4-upscaler/, unet_3d_config.json. */
export function writeTinyOfficialFiles(root: string): TinyOfficialFiles {
  const shape = { batch: 1, frames: TINY_LATENT.frames, height: TINY_LATENT.height, width: TINY_LATENT.width };
  const sd14 = join(root, 'stable-diffusion-v1-4');
  for (const d of ['unet', 'vae', 'text_encoder', 'tokenizer']) mkdirSync(join(sd14, d), { recursive: true });
  const vocab = writeSyntheticTokenizerFolder(join(sd14, 'tokenizer'));
  const clipCfg = tinyClipConfig(vocab);
  // diffusers-style configs: the converter reads these instead of assuming SD-1.4's sizes.
  writeFileSync(join(sd14, 'unet/config.json'), JSON.stringify({ ...TINY_UNET, _class_name: 'UNet2DConditionModel', down_block_types: TINY_UNET.down_block_types.map((s) => s.replace('3D', '2D')), up_block_types: TINY_UNET.up_block_types.map((s) => s.replace('3D', '2D')) }));
  writeFileSync(join(sd14, 'vae/config.json'), JSON.stringify(TINY_VAE));
  writeFileSync(join(sd14, 'text_encoder/config.json'), JSON.stringify(clipCfg));
  writeStateDictSafetensorsFile(join(sd14, 'vae/diffusion_pytorch_model.safetensors'), syntheticStateDict(2, (ctx) => {
    buildVaeDecoder(ctx, TINY_VAE, { batch: 1, height: 8, width: 8 });
    buildVaeEncoder(ctx, TINY_VAE, { batch: 1, height: 64, width: 64 });
  }));
  writeStateDictSafetensorsFile(join(sd14, 'text_encoder/model.safetensors'), syntheticStateDict(3, (ctx) => buildClipText(ctx, clipCfg, { batch: 1 })));
  const lavie = join(root, 'lavie');
  mkdirSync(lavie, { recursive: true });
  const basePt = join(lavie, 'lavie_base.pt');
  writeTorchCheckpointFile(basePt, syntheticStateDict(1, (ctx) => buildBaseUNet(ctx, TINY_UNET, shape)), { wrap: 'ema' });
  const interpCfg = { ...TINY_UNET, in_channels: 8, use_first_frame: true };
  const interpPt = join(lavie, 'lavie_interpolation.pt');
  writeTorchCheckpointFile(interpPt, syntheticStateDict(4, (ctx) => buildInterpUNet(ctx, interpCfg, shape)), { wrap: 'ema' });

  // The x4 upscaler folder and lavie_vsr.pt ({"ema": …} like the release), with LaVie's VSR config JSON.
  const x4 = join(root, 'stable-diffusion-x4-upscaler');
  for (const d of ['vae', 'text_encoder', 'tokenizer']) mkdirSync(join(x4, d), { recursive: true });
  const vocabX4 = writeSyntheticTokenizerFolder(join(x4, 'tokenizer'), { padToken: '!' });
  const x4Text = tinyClipConfig(vocabX4, 'gelu');
  writeFileSync(join(x4, 'vae/config.json'), JSON.stringify(TINY_X4_VAE));
  writeFileSync(join(x4, 'text_encoder/config.json'), JSON.stringify(x4Text));
  writeStateDictSafetensorsFile(join(x4, 'vae/diffusion_pytorch_model.safetensors'), syntheticStateDict(6, (ctx) => {
    buildVaeDecoder(ctx, TINY_X4_VAE, { batch: 1, height: 8, width: 8 });
    buildVaeEncoder(ctx, TINY_X4_VAE, { batch: 1, height: 32, width: 32 });
  }));
  writeStateDictSafetensorsFile(join(x4, 'text_encoder/model.safetensors'), syntheticStateDict(7, (ctx) => buildClipText(ctx, x4Text, { batch: 1 })));
  const vsrPt = join(lavie, 'lavie_vsr.pt');
  writeTorchCheckpointFile(vsrPt, syntheticStateDict(5, (ctx) => buildVsrUNet(ctx, TINY_VSR_UNET, { batch: 1, frames: 8, height: 32, width: 32 })), { wrap: 'ema' });
  const vsrConfig = join(root, 'unet_3d_config.json');
  writeFileSync(vsrConfig, JSON.stringify(TINY_VSR_UNET));
  return { lavie, sd14, x4, basePt, interpPt, vsrPt, vsrConfig };
}

/** The files of a folder, path (relative, '/'-separated) → bytes: what a Hub repo would serve. */
export function folderFiles(dir: string): Map<string, Uint8Array> {
  return new Map(readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => {
    const p = join(e.parentPath, e.name);
    return [relative(dir, p).split('\\').join('/'), new Uint8Array(readFileSync(p))];
  }));
}

export const TINY_LATENT_FLAG = `${TINY_LATENT.height}x${TINY_LATENT.width}`;
