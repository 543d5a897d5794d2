// CLIP tokenization through @huggingface/transformers, from the pack's tokenizer.json +
// tokenizer_config.json objects (no hub, no file system: works in the worker and in Node).
import { PreTrainedTokenizer } from '@huggingface/transformers';
import { LIMITS, PROMPT_TEXT_TOKENS } from '../../protocol/request.ts';

export const CLIP_MAX_LENGTH = LIMITS.promptTokens;

export type ClipTokenizer = PreTrainedTokenizer;

export function loadClipTokenizer(files: { tokenizerJson: object; tokenizerConfig: object }): ClipTokenizer {
  return new PreTrainedTokenizer(files.tokenizerJson, files.tokenizerConfig);
}

/**
 * Ids as the SD pipelines get them (`padding="max_length", max_length=77, truncation=True`):
 * [bos] + at most PROMPT_TEXT_TOKENS text tokens + [eos], then the pad id. Assembled here because transformers.js
 * truncates after adding the special tokens (it would cut the final eos off a long prompt).
 */
/** Text tokens of a prompt before it is cut to PROMPT_TEXT_TOKENS (what the UI's counter shows). */
export function countTextTokens(tok: ClipTokenizer, text: string): number {
  return tok.encode(text, { add_special_tokens: false }).length;
}

export function tokenizeForClip(tok: ClipTokenizer, prompts: string[]): { ids: BigInt64Array; shape: [number, number] } {
  const ids = new BigInt64Array(prompts.length * CLIP_MAX_LENGTH);
  const bos = tok.bos_token_id;
  const eos = tok.eos_token_id;
  const pad = tok.pad_token_id;
  if (bos === undefined || eos === undefined || pad === undefined) throw new Error('tokenizer lacks bos/eos/pad tokens');
  prompts.forEach((p, i) => {
    const text = tok.encode(p, { add_special_tokens: false }).slice(0, PROMPT_TEXT_TOKENS);
    const row = [bos, ...text, eos];
    for (let j = 0; j < CLIP_MAX_LENGTH; j++) ids[i * CLIP_MAX_LENGTH + j] = BigInt(row[j] ?? pad);
  });
  return { ids, shape: [prompts.length, CLIP_MAX_LENGTH] };
}
