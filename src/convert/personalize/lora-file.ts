// Read an SD-1.x LoRA state dict (kohya-ss / LoCon, diffusers / PEFT) into modules named by the
// LaVie state-dict keys they change. Names are resolved against the target's own spatial keys (never
// temporal ones), so a name either maps exactly or is reported as unmatched — nothing is guessed.
import { CheckpointError } from '../errors.ts';
import type { UNet3DConfig } from '../graphs/unet3d.ts';
import type { StateDict, TensorRef } from '../tensor.ts';
import { isTemporalKey, unetKeyToLdm } from './sd-layout.ts';

export type LoraTarget = 'unet' | 'text';
export type LoraFormat = 'kohya' | 'peft' | 'diffusers';

export interface LoraModule {
  /** The module's name in the LoRA file (without the .lora_down/.lora_A suffix). */
  name: string;
  target: LoraTarget;
  /** The LaVie weight it changes (official state-dict key, ending in `.weight`). */
  key: string;
  down: TensorRef;
  up: TensorRef;
  alpha?: TensorRef;
}

export interface LoraFile {
  file: string;
  format: LoraFormat;
  modules: LoraModule[];
  /** Module names that match no spatial layer of LaVie (or of its text encoder). */
  unmatched: string[];
}

/** The keys LoRA names are resolved against. */
export interface LoraTargets {
  unetKeys: Iterable<string>;
  unetConfig: Pick<UNet3DConfig, 'layers_per_block' | 'up_block_types'>;
  textKeys?: Iterable<string>;
}

type Part = 'down' | 'up' | 'alpha';

/** kohya: `lora_unet_<path with _>` / `lora_te_<path with _>` + `.lora_down.weight` … */
const KOHYA = /^(lora_(?:unet|te\d*)_[A-Za-z0-9_]+)\.(lora_down\.weight|lora_up\.weight|alpha)$/;
const KOHYA_OTHER = /^lora_(?:unet|te\d*)_[A-Za-z0-9_]+\.(.+)$/;
/** diffusers / PEFT: `[unet.|text_encoder.]<dotted path>` + `.lora_A.weight` / `.lora.down.weight` … */
const DOTTED = /^(.+?)\.(lora_A(?:\.default)?\.weight|lora_B(?:\.default)?\.weight|lora\.down\.weight|lora\.up\.weight|lora_linear_layer\.down\.weight|lora_linear_layer\.up\.weight|alpha)$/;
/** Old diffusers attention-processor LoRAs: `….attn1.processor.to_q_lora.down.weight`. */
const PROCESSOR = /^(.+)\.processor\.(to_q|to_k|to_v|to_out)_lora\.(down|up)\.weight$/;

const PART_OF: Record<string, Part> = {
  'lora_down.weight': 'down', 'lora_up.weight': 'up', alpha: 'alpha',
  'lora_A.weight': 'down', 'lora_A.default.weight': 'down', 'lora_B.weight': 'up', 'lora_B.default.weight': 'up',
  'lora.down.weight': 'down', 'lora.up.weight': 'up', 'lora_linear_layer.down.weight': 'down', 'lora_linear_layer.up.weight': 'up',
};

/** LyCORIS / DoRA parts we do not merge (a different decomposition, not up·down). */
const UNSUPPORTED_PART = /^(lora_mid\.weight|hada_|lokr_|dora_scale|lora_magnitude_vector|diff|diff_b|on_input|w_norm|b_norm)/;

/** Where a key says it belongs: kohya prefixes, diffusers/PEFT prefixes, or nothing (either target). */
interface Grouped { format: LoraFormat; target?: LoraTarget; name: string; path: string; parts: Partial<Record<Part, TensorRef>> }

function sdxlError(file: string, why: string): CheckpointError {
  return new CheckpointError('wrong-base-model', `${file}: this is an SDXL LoRA (${why}); LaVie's spatial layers are SD-1.x's, so it cannot be applied`, { file });
}

function group(sd: StateDict, file: string): { groups: Map<string, Grouped>; unknown: string[] } {
  const groups = new Map<string, Grouped>();
  const unknown: string[] = [];
  const unsupported: string[] = [];
  const add = (id: string, g: Omit<Grouped, 'parts'>, part: Part, t: TensorRef) => {
    let cur = groups.get(id);
    if (!cur) groups.set(id, (cur = { ...g, parts: {} }));
    cur.parts[part] = t;
  };
  for (const [key, t] of sd) {
    let m: RegExpMatchArray | null;
    if ((m = key.match(KOHYA))) {
      const name = m[1]!;
      if (/^lora_te[12]_/.test(name)) throw sdxlError(file, `it has two text encoders, "${key}"`);
      const target: LoraTarget = name.startsWith('lora_unet_') ? 'unet' : 'text';
      add(name, { format: 'kohya', target, name, path: name.replace(/^lora_(unet|te\d*)_/, '') }, PART_OF[m[2]!]!, t);
    } else if ((m = key.match(KOHYA_OTHER))) {
      if (UNSUPPORTED_PART.test(m[1]!)) unsupported.push(key);
      else unknown.push(key);
    } else if ((m = key.match(PROCESSOR))) {
      const path = `${m[1]}.${m[2] === 'to_out' ? 'to_out.0' : m[2]}`;
      add(path, { format: 'diffusers', name: path, ...prefixTarget(path, file) }, m[3] as Part, t);
    } else if ((m = key.match(DOTTED))) {
      const name = m[1]!;
      const format: LoraFormat = /lora_[AB]/.test(m[2]!) ? 'peft' : 'diffusers';
      add(name, { format, name, ...prefixTarget(name, file) }, PART_OF[m[2]!] ?? 'alpha', t);
    } else if (UNSUPPORTED_PART.test(key.split('.').slice(-2).join('.')) || /\.(hada_|lokr_|lora_mid|dora_scale)/.test(key)) {
      unsupported.push(key);
    } else {
      unknown.push(key);
    }
  }
  if (unsupported.length) {
    throw new CheckpointError('unknown-layout', `${file}: a LyCORIS/DoRA variant (e.g. "${unsupported[0]}"); only plain LoRA/LoCon (down·up, optional alpha) can be merged`, { file, keys: unsupported });
  }
  return { groups, unknown };
}

function prefixTarget(name: string, file: string): { target?: LoraTarget; path: string } {
  if (name.startsWith('text_encoder_2.') || name.startsWith('te2.')) throw sdxlError(file, `it has a second text encoder, "${name}"`);
  for (const [p, target] of [['unet.', 'unet'], ['text_encoder.', 'text'], ['te.', 'text']] as const) {
    if (name.startsWith(p)) return { target, path: stripPeft(name.slice(p.length)) };
  }
  return { path: stripPeft(name) };
}

const stripPeft = (p: string) => p.replace(/^base_model\.model\./, '');

/** module path (dotted, diffusers names or LDM names) / kohya name → LaVie weight key, spatial only. */
function lookups(t: LoraTargets): Record<LoraTarget, Map<string, string>> {
  const unet = new Map<string, string>();
  for (const key of t.unetKeys) {
    if (!key.endsWith('.weight') || isTemporalKey(key)) continue;
    const mod = key.slice(0, -'.weight'.length);
    unet.set(mod, key);
    unet.set(mod.replace(/\./g, '_'), key);
    const ldm = unetKeyToLdm(key, t.unetConfig);
    if (ldm) {
      const lmod = ldm.slice(0, -'.weight'.length);
      unet.set(lmod, key);
      unet.set(lmod.replace(/\./g, '_'), key);
    }
  }
  const text = new Map<string, string>();
  for (const key of t.textKeys ?? []) {
    if (!key.endsWith('.weight')) continue;
    const mod = key.slice(0, -'.weight'.length);
    text.set(mod, key);
    text.set(mod.replace(/\./g, '_'), key);
  }
  return { unet, text };
}

/** Parse `sd` as a LoRA and resolve every module against `targets`. */
export function readLora(sd: StateDict, file: string, targets: LoraTargets): LoraFile {
  const { groups, unknown } = group(sd, file);
  if (!groups.size) throw new CheckpointError('unknown-layout', `${file}: not a LoRA — ${describeKeys(sd)}`, { file, keys: unknown.slice(0, 20) });
  if (unknown.length) throw new CheckpointError('unknown-layout', `${file}: ${unknown.length} key(s) that are not LoRA weights, e.g. "${unknown[0]}"`, { file, keys: unknown });
  const maps = lookups(targets);
  const modules: LoraModule[] = [];
  const unmatched: string[] = [];
  const formats = new Set<LoraFormat>();
  for (const g of groups.values()) {
    formats.add(g.format);
    const { down, up, alpha } = g.parts;
    if (!down || !up) throw new CheckpointError('bad-format', `${file}: LoRA module "${g.name}" has ${down ? 'a down' : 'an up'} matrix but no ${down ? 'up' : 'down'} matrix`, { file, key: g.name });
    const order: LoraTarget[] = g.target ? [g.target] : ['unet', 'text'];
    const target = order.find((tg) => maps[tg].has(g.path));
    if (!target) {
      unmatched.push(g.name);
      continue;
    }
    modules.push({ name: g.name, target, key: maps[target].get(g.path)!, down, up, ...(alpha ? { alpha } : {}) });
  }
  const format: LoraFormat = formats.has('kohya') ? 'kohya' : formats.has('peft') ? 'peft' : 'diffusers';
  return { file, format, modules, unmatched };
}

/** A short description of what a file holds, for "not a LoRA / not a checkpoint" errors. */
export function describeKeys(sd: StateDict): string {
  const keys = [...sd.keys()];
  if (keys.some((k) => k.startsWith('model.diffusion_model.'))) return 'it is a full Stable Diffusion checkpoint (model.diffusion_model.*); use it with --personalize';
  if (keys.some((k) => k.startsWith('conditioner.embedders.'))) return 'it is an SDXL checkpoint (conditioner.embedders.*)';
  if (keys.some((k) => /^(down_blocks|up_blocks|mid_block)\./.test(k))) return 'it is a diffusers UNet state dict; use it with --personalize';
  return `${keys.length} tensor(s), e.g. ${keys.slice(0, 3).map((k) => `"${k}"`).join(', ') || 'none'}`;
}

/** Hint for unmatched names: which family of model the file was probably made for. */
export function unmatchedHint(names: readonly string[]): string {
  if (names.some((n) => /transformer_blocks[._][1-9]/.test(n))) return ' — several transformer blocks per attention layer: this looks like an SDXL LoRA';
  if (names.some((n) => /attn_temp|norm_temp/.test(n))) return " — LaVie's temporal layers are its own; an SD-1.x LoRA cannot name them";
  return '';
}
