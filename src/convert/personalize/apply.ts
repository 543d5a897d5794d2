// One entry for personalizing LaVie's state dicts before a pack is written: a fine-tuned SD-1.x
// checkpoint first (replace / add-difference), then any number of LoRAs on top — the order
// SD tools use (LoRAs are trained on and applied to a checkpoint). Returns the new state dicts and
// the record the pack's manifest keeps (`personalization`).
import { CheckpointError } from '../errors.ts';
import type { UNet3DConfig } from '../graphs/unet3d.ts';
import type { StateDict } from '../tensor.ts';
import type { PackPersonalization, PersonalizeMode } from '../../packs/manifest.ts';
import { applyCheckpoint, readPersonalFile, type PersonalWeights } from './checkpoint-merge.ts';
import { applyLoras } from './lora-merge.ts';

export interface PersonalizeSpec {
  /** A fine-tuned SD-1.x model: one single file (LDM layout or a diffusers UNet), or diffusers-folder parts. */
  checkpoint?: { name: string; mode: PersonalizeMode } & ({ file: StateDict } | { parts: PersonalWeights });
  /** The SD-1.x model the checkpoint was fine-tuned from (SD-1.4's): a diffusers UNet or an LDM single file; add-difference only. */
  sdBase?: { name: string; sd: StateDict };
  loras?: { name: string; sd: StateDict; multiplier: number }[];
  /** Skip LoRA modules that match no spatial layer instead of refusing the LoRA. */
  skipUnmatched?: boolean;
}

/** LaVie's state dicts; without `vae` a checkpoint's VAE is left out (an installed pack that stores only the decoder). */
export interface PersonalizeTargets { unet: StateDict; unetConfig: Pick<UNet3DConfig, 'layers_per_block' | 'up_block_types'>; text: StateDict; vae?: StateDict }

export interface Personalized {
  unet: StateDict;
  text: StateDict;
  vae?: StateDict;
  record: PackPersonalization;
  /** `unet:<key>`, `text:<key>`, `vae:<key>` of every tensor that changed. */
  changed: Set<string>;
  /** One line per applied file, for the CLI / UI. */
  lines: string[];
}

export function personalize(t: PersonalizeTargets, spec: PersonalizeSpec): Personalized {
  let { unet, text, vae } = t;
  const changed = new Set<string>();
  const lines: string[] = [];
  const record: PackPersonalization = { loras: [] };
  const c = spec.checkpoint;
  if (c) {
    if (c.mode === 'add-difference' && !spec.sdBase) throw new CheckpointError('missing-key', `${c.name}: add-difference needs the SD-1.x UNet it was fine-tuned from (SD-1.4's unet/ folder)`, { file: c.name });
    const parts = 'parts' in c ? c.parts : readPersonalFile(c.file, c.name, { unetKeys: unet.keys(), unetConfig: t.unetConfig, textKeys: text.keys(), ...(vae ? { vaeKeys: vae.keys() } : {}) });
    // The SD base may be a diffusers UNet (the CLI's --sd14 unet/) or an LDM single file (sd-v1-4.ckpt, the browser's pick).
    const sdBase = spec.sdBase ? { sd: readPersonalFile(spec.sdBase.sd, spec.sdBase.name, { unetKeys: unet.keys(), unetConfig: t.unetConfig }).unet, file: spec.sdBase.name } : undefined;
    const out = applyCheckpoint({ unet, text, ...(vae ? { vae } : {}) }, parts, c.name, c.mode, sdBase);
    ({ unet } = out);
    text = out.text ?? text;
    vae = out.vae ?? vae;
    for (const k of out.changed) changed.add(k);
    const count = (p: string) => [...out.changed].filter((k) => k.startsWith(p)).length;
    lines.push(`${c.name}: ${c.mode}, ${count('unet:')} UNet, ${count('text:')} text-encoder and ${count('vae:')} VAE tensors`);
    record.checkpoint = { name: c.name, mode: c.mode };
  }
  if (spec.loras?.length) {
    const out = applyLoras({ unet, unetKeys: unet.keys(), unetConfig: t.unetConfig, text, textKeys: text.keys() }, spec.loras.map((l) => ({ file: l.name, sd: l.sd, multiplier: l.multiplier })), { unmatched: spec.skipUnmatched ? 'skip' : 'error' });
    unet = out.unet;
    text = out.text ?? text;
    for (const k of out.changed) changed.add(k);
    for (const r of out.reports) {
      lines.push(`${r.file} (${r.format}, ×${r.multiplier}): ${r.unet} UNet and ${r.text} text-encoder weights${r.skipped.length ? `; ${r.skipped.length} unmatched module(s) skipped` : ''}`);
      record.loras.push({ name: r.file, multiplier: r.multiplier });
    }
  }
  return { unet, text, vae, record, changed, lines };
}
