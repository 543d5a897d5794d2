// CLIP tokenization through @huggingface/transformers, from the pack's tokenizer.json +
// tokenizer_config.json objects (no hub, no file system: works in the worker and in Node).
import { PreTrainedTokenizer } from '@huggingface/transformers';

export const CLIP_MAX_LENGTH = 77;

export type ClipTokenizer = PreTrainedTokenizer;

export function loadClipTokenizer(files: { tokenizerJson: object; tokenizerConfig: object }): ClipTokenizer {
  return new PreTrainedTokenizer(files.tokenizerJson, files.tokenizerConfig);
}

/**
 * Ids as the SD pipelines get them (`padding="max_length", max_length=77, truncation=True`):
 * [bos] + at most 75 text tokens + [eos], then the pad id. Assembled here because transformers.js
 * truncates after adding the special tokens (it would cut the final eos off a long prompt).
 */
export function tokenizeForClip(tok: ClipTokenizer, prompts: string[]): { ids: BigInt64Array; shape: [number, number] } {
  const ids = new BigInt64Array(prompts.length * CLIP_MAX_LENGTH);
  const bos = tok.bos_token_id;
  const eos = tok.eos_token_id;
  const pad = tok.pad_token_id;
  if (bos === undefined || eos === undefined || pad === undefined) throw new Error('tokenizer lacks bos/eos/pad tokens');
  prompts.forEach((p, i) => {
    const text = tok.encode(p, { add_special_tokens: false }).slice(0, CLIP_MAX_LENGTH - 2);
    const row = [bos, ...text, eos];
    for (let j = 0; j < CLIP_MAX_LENGTH; j++) ids[i * CLIP_MAX_LENGTH + j] = BigInt(row[j] ?? pad);
  });
  return { ids, shape: [prompts.length, CLIP_MAX_LENGTH] };
}
