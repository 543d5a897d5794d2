// Fine-tuned SD-1.x checkpoints (DreamBooth and the like) on LaVie. The file's UNet is read in
// diffusers names (from an LDM single file or a diffusers folder) and applied to LaVie's spatial keys
// only — the temporal ones stay LaVie's:
//   replace:         W' = W_personal
//   add-difference:  W' = W_lavie + (W_personal − W_sd)   (float64, rounded to float32 once)
// W_sd is the SD-1.x UNet the personal model was fine-tuned from (SD-1.4 for LaVie). The file's text
// encoder and VAE, when present, replace LaVie's: LaVie uses SD-1.4's unchanged, so for them the two
// modes coincide.
import { CheckpointError } from '../errors.ts';
import type { UNet3DConfig } from '../graphs/unet3d.ts';
import { PERSONALIZE_MODES, type PersonalizeMode } from '../../packs/manifest.ts';
import type { StateDict, TensorRef } from '../tensor.ts';
import { assertFinite, familyOfWidth } from './checks.ts';
import { describeKeys } from './lora-file.ts';
import { LDM_TEXT_PREFIX, LDM_UNET_PREFIX, LDM_VAE_PREFIX, isLdmBookkeeping, isTemporalKey, unetKeyToLdm, vaeBlockCount, vaeKeyToLdm } from './sd-layout.ts';

export { PERSONALIZE_MODES, type PersonalizeMode } from '../../packs/manifest.ts';

/** A personal model's parts, in diffusers names (what LaVie's state dicts use). */
export interface PersonalWeights { unet: StateDict; text?: StateDict; vae?: StateDict }

export interface PersonalLayout {
  unetKeys: Iterable<string>;
  unetConfig: Pick<UNet3DConfig, 'layers_per_block' | 'up_block_types'>;
  textKeys?: Iterable<string>;
  vaeKeys?: Iterable<string>;
}

/** A tensor viewed with another shape of the same size (LDM stores VAE attention as 1×1 convs). */
const reshaped = (t: TensorRef, shape: readonly number[]): TensorRef => ({ dtype: t.dtype, shape: [...shape], read: () => t.read() });

function refuseOtherFamilies(sd: StateDict, file: string): void {
  const keys = [...sd.keys()];
  if (keys.some((k) => k.startsWith('conditioner.embedders.')) || keys.some((k) => k.startsWith(`${LDM_UNET_PREFIX}label_emb.`))) {
    throw new CheckpointError('wrong-base-model', `${file}: this is an SDXL checkpoint (conditioner.embedders / label_emb); LaVie's spatial layers are SD-1.x's`, { file });
  }
  if (keys.some((k) => k.startsWith('cond_stage_model.model.'))) {
    throw new CheckpointError('wrong-base-model', `${file}: this is an SD-2.x checkpoint (OpenCLIP text encoder, cond_stage_model.model.*); LaVie's spatial layers are SD-1.x's`, { file });
  }
}

/**
 * Read a single-file checkpoint (LDM layout) or a bare diffusers UNet state dict into diffusers
 * names. Keys that map nowhere (other than the DDPM schedule and EMA copies) are an error.
 */
export function readPersonalFile(sd: StateDict, file: string, layout: PersonalLayout): PersonalWeights {
  refuseOtherFamilies(sd, file);
  const keys = [...sd.keys()];
  if (keys.some((k) => /\.(lora_down|lora_up|lora_A|lora_B)\.weight$|\.lora\.(down|up)\.weight$/.test(k))) {
    throw new CheckpointError('unknown-layout', `${file}: this is a LoRA, not a full checkpoint; use it with --lora`, { file });
  }
  const ldm = keys.some((k) => k.startsWith(LDM_UNET_PREFIX));
  if (!ldm) {
    if (!keys.some((k) => /^(conv_in|down_blocks|mid_block|up_blocks)\./.test(k))) {
      throw new CheckpointError('unknown-layout', `${file}: neither an SD-1.x single-file checkpoint (model.diffusion_model.*) nor a diffusers UNet — ${describeKeys(sd)}`, { file });
    }
    return { unet: sd };
  }
  const fromLdm = (targetKeys: Iterable<string> | undefined, prefix: string, toLdm: (k: string) => string | undefined): StateDict | undefined => {
    if (!targetKeys || !keys.some((k) => k.startsWith(prefix))) return undefined;
    const out: StateDict = new Map();
    for (const key of targetKeys) {
      const name = toLdm(key);
      const t = name === undefined ? undefined : sd.get(prefix + name);
      if (t) out.set(key, t);
    }
    return out;
  };
  const spatial = [...layout.unetKeys].filter((k) => !isTemporalKey(k));
  const vaeKeys = layout.vaeKeys ? [...layout.vaeKeys] : undefined;
  const blocks = vaeKeys ? vaeBlockCount(vaeKeys) : 0;
  const textKeys = layout.textKeys ? [...layout.textKeys] : undefined;
  // Older transformers saved the CLIP text model without the `text_model.` level.
  const textName = keys.some((k) => k.startsWith(`${LDM_TEXT_PREFIX}text_model.`)) ? (k: string) => k : (k: string) => k.replace(/^text_model\./, '');
  const unet = fromLdm(spatial, LDM_UNET_PREFIX, (k) => unetKeyToLdm(k, layout.unetConfig))!;
  const vae = fromLdm(vaeKeys, LDM_VAE_PREFIX, (k) => vaeKeyToLdm(k, blocks));
  const text = fromLdm(textKeys, LDM_TEXT_PREFIX, textName);
  if (vae) for (const [k, t] of vae) if (t.shape.length === 4 && /mid_block\.attentions\.0\.(query|key|value|proj_attn|to_[qkv]|to_out\.0)\.weight$/.test(k)) vae.set(k, reshaped(t, t.shape.slice(0, 2)));
  // Everything under a known prefix must have been taken.
  const taken = new Set<string>();
  for (const [k] of unet) taken.add(LDM_UNET_PREFIX + unetKeyToLdm(k, layout.unetConfig));
  if (vae) for (const [k] of vae) taken.add(LDM_VAE_PREFIX + vaeKeyToLdm(k, blocks));
  if (text) for (const [k] of text) taken.add(LDM_TEXT_PREFIX + textName(k));
  // Parts LaVie was not given (no VAE / text encoder to replace) are left alone, as is bookkeeping.
  const ignored = (k: string) => isLdmBookkeeping(k) || k.endsWith('.position_ids') || (!vae && k.startsWith(LDM_VAE_PREFIX)) || (!text && k.startsWith('cond_stage_model.'));
  const leftover = keys.filter((k) => !taken.has(k) && !ignored(k));
  if (leftover.length) {
    throw new CheckpointError('unexpected-key', `${file}: ${leftover.length} tensor(s) that map to no SD-1.x layer of LaVie, e.g. "${leftover[0]}"${leftover.length > 1 ? `, "${leftover[1]}"` : ''}`, { file, key: leftover[0], keys: leftover });
  }
  return { unet, ...(text ? { text } : {}), ...(vae ? { vae } : {}) };
}

function checkedRead(t: TensorRef, file: string, key: string): Float32Array {
  const x = t.read();
  assertFinite(x, file, key);
  return x;
}

function shapeError(file: string, key: string, got: readonly number[], want: readonly number[]): CheckpointError {
  const family = /attn2\.to_[kv]\.weight$/.test(key) && got.length === 2 ? familyOfWidth(got[1]!) : undefined;
  if (family) return new CheckpointError('wrong-base-model', `${file}: "${key}" is [${got}], SD-1.x's is [${want}] — this checkpoint is ${family}, not SD-1.x`, { file, key });
  return new CheckpointError('wrong-shape', `${file}: "${key}" has shape [${got}], LaVie's layer is [${want}]`, { file, key });
}

const sameShape = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((d, i) => d === b[i]);

/** Replace every key of `target` by the personal tensor of the same name (strict). */
function replaceAll(target: StateDict, personal: StateDict, file: string, what: string, skip: (k: string) => boolean, changed: Set<string>, tag: string): StateDict {
  const out: StateDict = new Map(target);
  for (const [key, w] of target) {
    if (skip(key)) continue;
    const p = personal.get(key);
    if (!p) throw new CheckpointError('missing-key', `${file}: the ${what} lacks "${key}"`, { file, key });
    if (!sameShape(p.shape, w.shape)) throw shapeError(file, key, p.shape, w.shape);
    out.set(key, { dtype: 'float32', shape: w.shape, read: () => checkedRead(p, file, key) });
    changed.add(`${tag}${key}`);
  }
  for (const key of personal.keys()) {
    if (!target.has(key) && !key.endsWith('position_ids')) throw new CheckpointError('unexpected-key', `${file}: the ${what} has "${key}", which LaVie's does not`, { file, key });
  }
  return out;
}

/**
 * Apply a personal model to LaVie's state dicts. `sdBase` (diffusers names) is needed for
 * add-difference. Returns new state dicts; inputs are not modified.
 */
export function applyCheckpoint(
  targets: { unet: StateDict; text?: StateDict; vae?: StateDict },
  personal: PersonalWeights,
  file: string,
  mode: PersonalizeMode,
  sdBase?: { sd: StateDict; file: string },
): { unet: StateDict; text?: StateDict; vae?: StateDict; changed: Set<string> } {
  const changed = new Set<string>();
  if (!PERSONALIZE_MODES.includes(mode)) throw new Error(`mode must be one of ${PERSONALIZE_MODES.join(', ')}`);
  let unet: StateDict;
  if (mode === 'replace') {
    unet = replaceAll(targets.unet, personal.unet, file, 'UNet', isTemporalKey, changed, 'unet:');
  } else {
    if (!sdBase) throw new CheckpointError('missing-key', `${file}: add-difference needs the SD-1.x UNet the model was fine-tuned from (SD-1.4's)`, { file });
    const diff = replaceAll(targets.unet, personal.unet, file, 'UNet', isTemporalKey, new Set(), '');
    const base = replaceAll(targets.unet, sdBase.sd, sdBase.file, 'SD-1.x UNet', isTemporalKey, new Set(), '');
    unet = new Map(targets.unet);
    for (const [key, w] of targets.unet) {
      if (isTemporalKey(key)) continue;
      const p = diff.get(key)!;
      const b = base.get(key)!;
      unet.set(key, {
        dtype: 'float32', shape: w.shape,
        read: () => {
          const lv = w.read();
          const pv = p.read();
          const bv = b.read();
          const out = new Float32Array(lv.length);
          for (let i = 0; i < lv.length; i++) out[i] = lv[i]! + (pv[i]! - bv[i]!);
          return out;
        },
      });
      changed.add(`unet:${key}`);
    }
  }
  const text = targets.text && personal.text ? replaceAll(targets.text, personal.text, file, 'text encoder', (k) => k.endsWith('position_ids'), changed, 'text:') : targets.text;
  const vae = targets.vae && personal.vae ? replaceAll(targets.vae, personal.vae, file, 'VAE', () => false, changed, 'vae:') : targets.vae;
  return { unet, ...(text ? { text } : {}), ...(vae ? { vae } : {}), changed };
}
