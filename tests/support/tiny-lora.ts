// A kohya-format LoRA for the built-in tiny demo pack (make-tiny-pack's two-level UNet), for tests that
// personalize the demo pack itself. The fixtures' LoRAs fit the official four-level tiny UNet (their
// merge math is checked against those fixtures in tests/convert); this one only has to fit the pack.
import { encodeSafetensors, type NamedArray } from '../../src/convert/io/safetensors.ts';

/** Module (kohya name without `lora_unet_`) → [out, in, kernel]: linears and 1×1 convs, one LoCon 3×3 conv. */
const MODULES: Record<string, [number, number, number]> = {
  down_blocks_0_attentions_0_transformer_blocks_0_attn1_to_q: [32, 32, 0],
  down_blocks_0_attentions_0_transformer_blocks_0_attn1_to_k: [32, 32, 0],
  down_blocks_0_attentions_0_transformer_blocks_0_attn1_to_v: [32, 32, 0],
  down_blocks_0_attentions_0_transformer_blocks_0_attn1_to_out_0: [32, 32, 0],
  down_blocks_0_attentions_0_transformer_blocks_0_attn2_to_k: [32, 32, 0],
  down_blocks_0_attentions_0_transformer_blocks_0_attn2_to_v: [32, 32, 0],
  down_blocks_0_attentions_0_transformer_blocks_0_ff_net_0_proj: [256, 32, 0],
  down_blocks_0_attentions_0_transformer_blocks_0_ff_net_2: [32, 128, 0],
  down_blocks_0_attentions_0_proj_in: [32, 32, 1],
  down_blocks_0_attentions_0_proj_out: [32, 32, 1],
  down_blocks_0_resnets_0_conv1: [32, 32, 3],
  up_blocks_1_attentions_1_transformer_blocks_0_attn1_to_q: [32, 32, 0],
  mid_block_attentions_0_transformer_blocks_0_attn1_to_v: [48, 48, 0],
};
/** How many UNet weights the LoRA changes (the personalize report's count). */
export const TINY_LORA_UNET_WEIGHTS = Object.keys(MODULES).length;

/** The LoRA's bytes (rank 4, alpha 2; deterministic values large enough to change the video). */
export function tinyPackLora(): Uint8Array {
  let s = 12345;
  const rnd = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32 - 0.5) * 0.6;
  const arr = (shape: number[]): NamedArray => {
    const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
    for (let i = 0; i < data.length; i++) data[i] = rnd();
    return { dtype: 'float32', shape, data };
  };
  const r = 4;
  const t: Record<string, NamedArray> = {};
  for (const [m, [out, inp, k]] of Object.entries(MODULES)) {
    t[`lora_unet_${m}.lora_down.weight`] = arr(k ? [r, inp, k, k] : [r, inp]);
    t[`lora_unet_${m}.lora_up.weight`] = arr(k ? [out, r, 1, 1] : [out, r]);
    t[`lora_unet_${m}.alpha`] = { dtype: 'float32', shape: [], data: new Float32Array([2]) };
  }
  return encodeSafetensors(t, { ss_network_module: 'networks.lora' });
}
