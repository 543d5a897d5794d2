// Full-size synthetic official-format inputs for the conversion benches (bench/convert-full.ts,
// bench/convert-memory.ts): lavie_base.pt with LaVie's real shapes (909 M params, fp32, {"ema": …}
// torch zip, 3.64 GB) and a full-size SD-1.4 folder (VAE and CLIP-L text encoder in the
// diffusers/transformers layout, as .safetensors or torch-zip .bin, with the synthetic tokenizer).
// Random weights; written by our own TS writers (no Python).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SD14_CLIP_TEXT_CONFIG, buildClipText } from '../src/convert/graphs/clip_text.ts';
import { LAVIE_BASE_UNET_CONFIG, buildBaseUNet } from '../src/convert/graphs/unet3d.ts';
import { SD14_VAE_CONFIG, buildVaeDecoder, buildVaeEncoder } from '../src/convert/graphs/vae.ts';
import { syntheticStateDict } from '../src/convert/synthetic.ts';
import { writeStateDictSafetensorsFile, writeSyntheticTokenizerFolder, writeTorchCheckpointFile } from '../src/convert/cli/node-io.ts';
import type { StateDict } from '../src/convert/tensor.ts';

export interface FullSizeInputs { lavie: string; basePt: string; sd14: string; ptBytes: number }

/** Writes `root`/lavie/lavie_base.pt and `root`/stable-diffusion-v1-4/ (vae, text_encoder, tokenizer). */
export function writeFullSizeInputs(root: string, sdFormat: 'safetensors' | 'bin' = 'safetensors'): FullSizeInputs {
  /** The diffusers (VAE) / transformers (text encoder) weights file in the chosen format. */
  const writeSd = (dir: string, stem: { safetensors: string; bin: string }, sd: StateDict) =>
    sdFormat === 'bin' ? writeTorchCheckpointFile(join(dir, stem.bin), sd) : writeStateDictSafetensorsFile(join(dir, stem.safetensors), sd);
  const sd14 = join(root, 'stable-diffusion-v1-4');
  for (const d of ['vae', 'text_encoder', 'tokenizer']) mkdirSync(join(sd14, d), { recursive: true });
  const vocabSize = writeSyntheticTokenizerFolder(join(sd14, 'tokenizer'));
  writeSd(join(sd14, 'vae'), { safetensors: 'diffusion_pytorch_model.safetensors', bin: 'diffusion_pytorch_model.bin' }, syntheticStateDict(2, (ctx) => {
    buildVaeDecoder(ctx, SD14_VAE_CONFIG, { batch: 1, height: 40, width: 64 });
    buildVaeEncoder(ctx, SD14_VAE_CONFIG, { batch: 1, height: 320, width: 512 });
  }));
  // Full CLIP-L (49,408-token embedding, 492 MB) so the measurement sees the real text encoder; the
  // synthetic tokenizer only uses the low ids and its own BOS/EOS (the pack is measured, not run).
  const textCfg = { ...SD14_CLIP_TEXT_CONFIG, bos_token_id: vocabSize - 2, eos_token_id: vocabSize - 1, pad_token_id: vocabSize - 1 };
  writeFileSync(join(sd14, 'text_encoder/config.json'), JSON.stringify(textCfg));
  writeSd(join(sd14, 'text_encoder'), { safetensors: 'model.safetensors', bin: 'pytorch_model.bin' }, syntheticStateDict(3, (ctx) => buildClipText(ctx, textCfg, { batch: 1 })));
  const lavie = join(root, 'lavie');
  mkdirSync(lavie, { recursive: true });
  const basePt = join(lavie, 'lavie_base.pt');
  const ptBytes = writeTorchCheckpointFile(basePt, syntheticStateDict(1, (ctx) => buildBaseUNet(ctx, LAVIE_BASE_UNET_CONFIG, { batch: 1, frames: 16, height: 40, width: 64 })), { wrap: 'ema' });
  return { lavie, basePt, sd14, ptBytes };
}
