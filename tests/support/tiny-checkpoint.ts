// DreamBooth-style SD-1.x single files for the built-in tiny demo pack (make-tiny-pack's two-level
// UNet and tiny CLIP), for tests that personalize the demo pack itself with a fine-tuned checkpoint.
// Keys are the networks' official ones (the state dicts the converter's builders ask for), renamed to
// the original LDM layout (`model.diffusion_model.*`, `cond_stage_model.transformer.*`) as
// sd-layout.ts maps them; values are deterministic random. The merge math itself is checked against
// the dreambooth_unet fixture in tests/convert and tests/packs.
import { TINY_LATENT, TINY_UNET, tinyClipConfig } from '../../src/convert/cli/make-tiny-pack.ts';
import { buildClipText } from '../../src/convert/graphs/clip_text.ts';
import { buildBaseUNet } from '../../src/convert/graphs/unet3d.ts';
import { encodeSafetensors, type NamedArray } from '../../src/convert/io/safetensors.ts';
import { writeTorchCheckpoint } from '../../src/convert/io/torch-writer.ts';
import { syntheticTokenizerFolderFiles } from '../../src/convert/pack/synthetic-tokenizer.ts';
import { LDM_TEXT_PREFIX, LDM_UNET_PREFIX, isTemporalKey, unetKeyToLdm } from '../../src/convert/personalize/sd-layout.ts';
import { syntheticStateDict, synthesizer } from '../../src/convert/synthetic.ts';
import type { StateDict } from '../../src/convert/tensor.ts';

/** The demo pack's spatial UNet keys (and, with `text`, its text encoder's) in LDM names, values from `seed`. */
function ldmStateDict(seed: number, text: boolean): StateDict {
  const make = synthesizer(seed);
  const out: StateDict = new Map();
  const unet = syntheticStateDict(1, (ctx) => buildBaseUNet(ctx, TINY_UNET, { batch: 1, ...TINY_LATENT }));
  for (const [k, t] of unet) if (!isTemporalKey(k)) out.set(LDM_UNET_PREFIX + unetKeyToLdm(k, TINY_UNET)!, make(k, t.shape));
  if (text) {
    const clip = syntheticStateDict(3, (ctx) => buildClipText(ctx, tinyClipConfig(syntheticTokenizerFolderFiles().vocabSize), { batch: 1 }));
    for (const [k, t] of clip) out.set(LDM_TEXT_PREFIX + k, make(k, t.shape));
  }
  return out;
}

/** UNet spatial / text-encoder tensors in the checkpoint (the personalize report's counts). */
export function tinyCheckpointCounts(): { unet: number; text: number } {
  const sd = ldmStateDict(11, true);
  const n = (p: string) => [...sd.keys()].filter((k) => k.startsWith(p)).length;
  return { unet: n(LDM_UNET_PREFIX), text: n(LDM_TEXT_PREFIX) };
}

/** The fine-tuned checkpoint: UNet + text encoder, as a `.ckpt` (torch.save zip, {"state_dict": …}). */
export function tinyPackCheckpoint(): Uint8Array {
  const chunks: Uint8Array[] = [];
  writeTorchCheckpoint({ write: (c) => chunks.push(c.slice()) }, ldmStateDict(11, true), { wrap: 'state_dict' });
  const out = new Uint8Array(chunks.reduce((s, c) => s + c.byteLength, 0));
  let p = 0;
  for (const c of chunks) { out.set(c, p); p += c.byteLength; }
  return out;
}

/** "SD-1.4" for add-difference: the UNet only, as an LDM `.safetensors`. */
export function tinyPackSdBase(): Uint8Array {
  const t: Record<string, NamedArray> = {};
  for (const [k, r] of ldmStateDict(12, false)) t[k] = { dtype: 'float32', shape: r.shape, data: r.read() };
  return encodeSafetensors(t);
}
