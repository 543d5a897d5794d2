// CLIPTextModel (transformers 4.28; LAVIE.md §7.2): SD-1.4's CLIP ViT-L/14 text tower and the
// x4-upscaler's OpenCLIP-H tower in the same form. Written so @huggingface/transformers can load
// the graph as a CLIPTextModel: input `input_ids`, outputs `last_hidden_state`, `pooler_output`.
import type { Value } from '../onnx/graph.ts';
import * as op from '../onnx/ops.ts';
import { attentionCore, geluErf, layerNorm, linear, mergeHeads, splitHeads, type NetCtx } from './nn.ts';
import { plainWeight } from './weights.ts';

export interface ClipTextConfig {
  vocab_size: number;
  hidden_size: number;
  intermediate_size: number;
  projection_dim?: number;
  num_hidden_layers: number;
  num_attention_heads: number;
  max_position_embeddings: number;
  hidden_act: 'quick_gelu' | 'gelu';
  layer_norm_eps: number;
  bos_token_id: number;
  eos_token_id: number;
  pad_token_id?: number;
  [k: string]: unknown;
}

export const SD14_CLIP_TEXT_CONFIG: ClipTextConfig = {
  vocab_size: 49408, hidden_size: 768, intermediate_size: 3072, projection_dim: 768, num_hidden_layers: 12, num_attention_heads: 12,
  max_position_embeddings: 77, hidden_act: 'quick_gelu', layer_norm_eps: 1e-5, bos_token_id: 49406, eos_token_id: 49407, pad_token_id: 49407,
};

export const X4_CLIP_TEXT_CONFIG: ClipTextConfig = {
  vocab_size: 49408, hidden_size: 1024, intermediate_size: 4096, projection_dim: 512, num_hidden_layers: 23, num_attention_heads: 16,
  max_position_embeddings: 77, hidden_act: 'gelu', layer_norm_eps: 1e-5, bos_token_id: 49406, eos_token_id: 49407, pad_token_id: 0,
};

/** Large finite negative for masked logits (exp underflows to exactly 0, no inf − inf). */
const MASKED = -1e9;

export function buildClipText(ctx: NetCtx, cfg: ClipTextConfig, shape: { batch: number; length?: number }): void {
  const g = ctx.g;
  const L = shape.length ?? cfg.max_position_embeddings;
  const D = cfg.hidden_size;
  const H = cfg.num_attention_heads;
  const V = cfg.vocab_size;
  const B = shape.batch;
  const ids = g.input('input_ids', 'int64', [B, L]);
  ctx.p.consume('text_model.embeddings.position_ids');

  const tok = plainWeight(ctx, 'text_model.embeddings.token_embedding.weight', ctx.p.get('text_model.embeddings.token_embedding.weight', [V, D]));
  const pos = plainWeight(ctx, 'text_model.embeddings.position_embedding.weight', ctx.p.get('text_model.embeddings.position_embedding.weight', [cfg.max_position_embeddings, D]));
  let x = op.add(g, op.gather(g, tok, ids, 0), op.slice(g, pos, 0, 0, L));

  const mask = new Float32Array(L * L);
  for (let i = 0; i < L; i++) for (let j = i + 1; j < L; j++) mask[i * L + j] = MASKED;
  const causal = g.constF32(mask, [1, 1, L, L], 'causal_mask');
  const act = (h: Value) => (cfg.hidden_act === 'quick_gelu' ? op.mul(g, h, op.sigmoid(g, op.mulScalar(g, h, 1.702))) : geluErf(ctx, h));

  for (let l = 0; l < cfg.num_hidden_layers; l++) {
    const p = `text_model.encoder.layers.${l}`;
    g.scope(`layer${l}`, () => {
      const hN = layerNorm(ctx, x, `${p}.layer_norm1`, cfg.layer_norm_eps);
      const q = op.mulScalar(g, linear(ctx, hN, `${p}.self_attn.q_proj`, D, D), (D / H) ** -0.5);
      const k = linear(ctx, hN, `${p}.self_attn.k_proj`, D, D);
      const v = linear(ctx, hN, `${p}.self_attn.v_proj`, D, D);
      const o = mergeHeads(g, attentionCore(ctx, splitHeads(g, q, H), splitHeads(g, k, H), splitHeads(g, v, H), causal));
      x = op.add(g, x, linear(ctx, o, `${p}.self_attn.out_proj`, D, D));
      const m = act(linear(ctx, layerNorm(ctx, x, `${p}.layer_norm2`, cfg.layer_norm_eps), `${p}.mlp.fc1`, D, cfg.intermediate_size));
      x = op.add(g, x, linear(ctx, m, `${p}.mlp.fc2`, cfg.intermediate_size, D));
    });
  }
  const last = layerNorm(ctx, x, 'text_model.final_layer_norm', cfg.layer_norm_eps);
  g.output(last, 'last_hidden_state');

  // pooler_output = last_hidden_state at the FIRST position holding the largest id (transformers
  // 4.28's argmax). Built from float ops only (ids are exact in float32): ids as floats via a
  // Gather from [0..V), is_max = relu(1 − (max − id)), first = is_max · relu(2 − cumsum(is_max)).
  const idsF = op.gather(g, g.constF32(Float32Array.from({ length: V }, (_, i) => i), [V], 'id_values'), ids, 0); // [B, L]
  const mx = g.op('ReduceMax', [idsF], { axes: [1], keepdims: 1 }, { shape: [B, 1], dtype: 'float32' });
  const relu = (t: Value) => g.op('Relu', [t], {}, { shape: t.shape, dtype: t.dtype });
  const isMax = relu(op.sub(g, g.constF32([1], []), op.sub(g, mx, idsF)));
  const upper = new Float32Array(L * L);
  for (let i = 0; i < L; i++) for (let j = i; j < L; j++) upper[i * L + j] = 1;
  const cum = op.matmul(g, isMax, g.constF32(upper, [L, L], 'cumsum_upper'));
  const first = op.mul(g, isMax, relu(op.sub(g, g.constF32([2], []), cum)));
  const pooled = op.matmul(g, op.reshape(g, first, [B, 1, L]), last);
  g.output(op.reshape(g, pooled, [B, D]), 'pooler_output');
}
