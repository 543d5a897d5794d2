// SD-1.x key names: which LaVie keys are spatial (shared with SD-1.x) and how the original LDM
// single-file layout (`model.diffusion_model.*`, `first_stage_model.*`, `cond_stage_model.*`) names
// them. The maps are generated from the target's own keys (diffusers names) and its block layout,
// the inverse of what diffusers' convert_from_ckpt does, so they cover exactly what LaVie has.
import type { UNet3DConfig } from '../graphs/unet3d.ts';

/** LaVie's temporal modules (LAVIE.md): SD-1.x files never name them, and nothing here touches them. */
export function isTemporalKey(key: string): boolean {
  return /(^|\.)(attn_temp|norm_temp)\./.test(key);
}

const RESNET_LDM: Record<string, string> = {
  norm1: 'in_layers.0', conv1: 'in_layers.2', time_emb_proj: 'emb_layers.1', norm2: 'out_layers.0', conv2: 'out_layers.3', conv_shortcut: 'skip_connection',
};

function resnetPart(rest: string): string {
  const [part, ...tail] = rest.split('.');
  const ldm = RESNET_LDM[part!];
  return ldm ? [ldm, ...tail].join('.') : rest;
}

/** LDM name (without `model.diffusion_model.`) of a diffusers UNet key, or undefined when it has none. */
export function unetKeyToLdm(key: string, cfg: Pick<UNet3DConfig, 'layers_per_block' | 'up_block_types'>): string | undefined {
  const L = cfg.layers_per_block;
  let m: RegExpMatchArray | null;
  if ((m = key.match(/^time_embedding\.linear_([12])\.(.+)$/))) return `time_embed.${m[1] === '1' ? 0 : 2}.${m[2]}`;
  if ((m = key.match(/^conv_in\.(.+)$/))) return `input_blocks.0.0.${m[1]}`;
  if ((m = key.match(/^conv_norm_out\.(.+)$/))) return `out.0.${m[1]}`;
  if ((m = key.match(/^conv_out\.(.+)$/))) return `out.2.${m[1]}`;
  if ((m = key.match(/^down_blocks\.(\d+)\.resnets\.(\d+)\.(.+)$/))) return `input_blocks.${1 + +m[1]! * (L + 1) + +m[2]!}.0.${resnetPart(m[3]!)}`;
  if ((m = key.match(/^down_blocks\.(\d+)\.attentions\.(\d+)\.(.+)$/))) return `input_blocks.${1 + +m[1]! * (L + 1) + +m[2]!}.1.${m[3]}`;
  if ((m = key.match(/^down_blocks\.(\d+)\.downsamplers\.0\.conv\.(.+)$/))) return `input_blocks.${(+m[1]! + 1) * (L + 1)}.0.op.${m[2]}`;
  if ((m = key.match(/^mid_block\.resnets\.([01])\.(.+)$/))) return `middle_block.${m[1] === '0' ? 0 : 2}.${resnetPart(m[2]!)}`;
  if ((m = key.match(/^mid_block\.attentions\.0\.(.+)$/))) return `middle_block.1.${m[1]}`;
  if ((m = key.match(/^up_blocks\.(\d+)\.resnets\.(\d+)\.(.+)$/))) return `output_blocks.${+m[1]! * (L + 1) + +m[2]!}.0.${resnetPart(m[3]!)}`;
  if ((m = key.match(/^up_blocks\.(\d+)\.attentions\.(\d+)\.(.+)$/))) return `output_blocks.${+m[1]! * (L + 1) + +m[2]!}.1.${m[3]}`;
  if ((m = key.match(/^up_blocks\.(\d+)\.upsamplers\.0\.conv\.(.+)$/))) {
    const withAttn = /CrossAttn/.test(cfg.up_block_types[+m[1]!] ?? '');
    return `output_blocks.${+m[1]! * (L + 1) + L}.${withAttn ? 2 : 1}.conv.${m[2]}`;
  }
  return undefined;
}

/** LDM name (without `first_stage_model.`) of a diffusers VAE key; `blocks` = number of up/down blocks. */
export function vaeKeyToLdm(key: string, blocks: number): string | undefined {
  let m: RegExpMatchArray | null;
  const res = (r: string) => r.replace(/^conv_shortcut\./, 'nin_shortcut.');
  if ((m = key.match(/^(encoder|decoder)\.conv_norm_out\.(.+)$/))) return `${m[1]}.norm_out.${m[2]}`;
  if (/^(encoder|decoder)\.conv_(in|out)\./.test(key) || /^(post_)?quant_conv\./.test(key)) return key;
  if ((m = key.match(/^encoder\.down_blocks\.(\d+)\.resnets\.(\d+)\.(.+)$/))) return `encoder.down.${m[1]}.block.${m[2]}.${res(m[3]!)}`;
  if ((m = key.match(/^encoder\.down_blocks\.(\d+)\.downsamplers\.0\.conv\.(.+)$/))) return `encoder.down.${m[1]}.downsample.conv.${m[2]}`;
  // LDM numbers the decoder's up blocks from the lowest resolution's opposite end.
  if ((m = key.match(/^decoder\.up_blocks\.(\d+)\.resnets\.(\d+)\.(.+)$/))) return `decoder.up.${blocks - 1 - +m[1]!}.block.${m[2]}.${res(m[3]!)}`;
  if ((m = key.match(/^decoder\.up_blocks\.(\d+)\.upsamplers\.0\.conv\.(.+)$/))) return `decoder.up.${blocks - 1 - +m[1]!}.upsample.conv.${m[2]}`;
  if ((m = key.match(/^(encoder|decoder)\.mid_block\.resnets\.([01])\.(.+)$/))) return `${m[1]}.mid.block_${+m[2]! + 1}.${res(m[3]!)}`;
  if ((m = key.match(/^(encoder|decoder)\.mid_block\.attentions\.0\.(group_norm|query|key|value|proj_attn|to_q|to_k|to_v|to_out\.0)\.(.+)$/))) {
    const part = ({ group_norm: 'norm', query: 'q', key: 'k', value: 'v', proj_attn: 'proj_out', to_q: 'q', to_k: 'k', to_v: 'v', 'to_out.0': 'proj_out' } as Record<string, string>)[m[2]!];
    return `${m[1]}.mid.attn_1.${part}.${m[3]}`;
  }
  return undefined;
}

/** Number of decoder up blocks named in a diffusers VAE state dict. */
export function vaeBlockCount(keys: Iterable<string>): number {
  let n = 0;
  for (const k of keys) {
    const m = k.match(/^decoder\.up_blocks\.(\d+)\./);
    if (m) n = Math.max(n, +m[1]! + 1);
  }
  return n;
}

/** Top-level prefixes of an LDM single-file checkpoint. */
export const LDM_UNET_PREFIX = 'model.diffusion_model.';
export const LDM_VAE_PREFIX = 'first_stage_model.';
export const LDM_TEXT_PREFIX = 'cond_stage_model.transformer.';

/**
 * Non-weight entries of LDM checkpoints (the DDPM schedule, EMA copies, loss weights): a loader
 * skips them. Anything else that maps nowhere is an error.
 */
export function isLdmBookkeeping(key: string): boolean {
  return /^(betas|alphas_cumprod|alphas_cumprod_prev|sqrt_alphas_cumprod|sqrt_one_minus_alphas_cumprod|log_one_minus_alphas_cumprod|sqrt_recip_alphas_cumprod|sqrt_recipm1_alphas_cumprod|posterior_variance|posterior_log_variance_clipped|posterior_mean_coef1|posterior_mean_coef2|logvar|lvlb_weights)$/.test(key)
    || key.startsWith('model_ema.');
}
