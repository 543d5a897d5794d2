// Build a Hugging Face `tokenizer.json` for CLIP from an SD-1.4-style `tokenizer/` folder
// (vocab.json + merges.txt + tokenizer_config.json + special_tokens_map.json), so that
// @huggingface/transformers tokenizes exactly like LaVie's slow CLIPTokenizer without ftfy:
//   BertNormalizer  = BasicTokenizer's cleanup (control chars, whitespace, CJK spacing,
//                     lower-case, accent stripping);
//   BertPreTokenizer = its whitespace + punctuation split;
//   Split (findall)  = CLIP's regex;  ByteLevel = bytes → unicode symbols;
//   BPE with `</w>`, then <|startoftext|> … <|endoftext|>.
// The pad token is a special token, so for the x4 (SD-2) convention a literal "!" is split off
// as that token, as the slow tokenizer does.
import { CheckpointError } from './errors.ts';
import { joinPath, readText, writeWhole, type PackSink, type SourceFolder } from './io/bytes.ts';
import type { PackFile } from '../packs/manifest.ts';
import { LIMITS } from '../protocol/request.ts';

export const CLIP_PATTERN = "<\\|startoftext\\|>|<\\|endoftext\\|>|'s|'t|'re|'ve|'m|'ll|'d|[\\p{L}]+|[\\p{N}]|[^\\s\\p{L}\\p{N}]+";

export interface TokenizerFolderFiles {
  vocab: Record<string, number>;
  merges: string[];
  tokenizerConfig: Record<string, unknown>;
  specialTokensMap?: Record<string, unknown>;
}

const tokenContent = (t: unknown): string | undefined => (typeof t === 'string' ? t : (t as { content?: string } | undefined)?.content);

/** The tokenizer files the conversion reads from `dir` of a folder (SD-1.4 / x4 `tokenizer/`). */
export const TOKENIZER_FILES = { required: ['vocab.json', 'merges.txt', 'tokenizer_config.json'], optional: ['special_tokens_map.json'] } as const;

export async function readTokenizerFolder(folder: SourceFolder, dir: string): Promise<TokenizerFolderFiles> {
  const need = (f: string) => {
    const p = joinPath(dir, f);
    if (!folder.has(p)) throw new CheckpointError('missing-key', `${joinPath(folder.name, p)}: missing tokenizer file`, { file: joinPath(folder.name, p) });
    return readText(folder, p);
  };
  const merges = (await need('merges.txt')).split('\n').filter((l, i) => l.trim() && !(i === 0 && l.startsWith('#version')));
  const stm = joinPath(dir, 'special_tokens_map.json');
  return {
    vocab: JSON.parse(await need('vocab.json')),
    merges,
    tokenizerConfig: JSON.parse(await need('tokenizer_config.json')),
    specialTokensMap: folder.has(stm) ? JSON.parse(await readText(folder, stm)) : undefined,
  };
}

/** The special tokens of the folder: bos, eos, unk, pad (pad may be "!" for SD-2 / x4). */
export function specialTokens(files: TokenizerFolderFiles): { bos: string; eos: string; unk: string; pad: string } {
  const pick = (k: string) => tokenContent(files.specialTokensMap?.[k]) ?? tokenContent(files.tokenizerConfig[k]);
  const bos = pick('bos_token') ?? '<|startoftext|>';
  const eos = pick('eos_token') ?? '<|endoftext|>';
  return { bos, eos, unk: pick('unk_token') ?? eos, pad: pick('pad_token') ?? eos };
}

export function buildClipTokenizerJson(files: TokenizerFolderFiles): Record<string, unknown> {
  const sp = specialTokens(files);
  const idOf = (t: string) => {
    const id = files.vocab[t];
    if (id === undefined) throw new Error(`tokenizer: special token ${JSON.stringify(t)} is not in vocab.json`);
    return id;
  };
  const specials = [...new Set([sp.bos, sp.eos, sp.unk, sp.pad])];
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: specials.map((content) => ({ id: idOf(content), content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true })),
    normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true },
    pre_tokenizer: {
      type: 'Sequence',
      pretokenizers: [
        { type: 'BertPreTokenizer' },
        { type: 'Split', pattern: { Regex: CLIP_PATTERN }, behavior: 'Isolated', invert: true },
        { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false },
      ],
    },
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: sp.bos, type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: sp.eos, type_id: 0 } }],
      pair: [{ SpecialToken: { id: sp.bos, type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: sp.eos, type_id: 0 } }, { Sequence: { id: 'B', type_id: 1 } }, { SpecialToken: { id: sp.eos, type_id: 1 } }],
      special_tokens: Object.fromEntries([sp.bos, sp.eos].map((t) => [t, { id: t, ids: [idOf(t)], tokens: [t] }])),
    },
    decoder: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    model: { type: 'BPE', dropout: null, unk_token: sp.unk, continuing_subword_prefix: '', end_of_word_suffix: '</w>', fuse_unk: false, byte_fallback: false, vocab: files.vocab, merges: files.merges },
  };
}

/** tokenizer_config.json as transformers.js reads it. */
export function buildClipTokenizerConfig(files: TokenizerFolderFiles): Record<string, unknown> {
  const sp = specialTokens(files);
  return {
    tokenizer_class: 'CLIPTokenizer',
    model_max_length: LIMITS.promptTokens,
    bos_token: sp.bos,
    eos_token: sp.eos,
    unk_token: sp.unk,
    pad_token: sp.pad,
    do_lower_case: true,
    clean_up_tokenization_spaces: false,
  };
}

/** tokenizer.json + tokenizer_config.json into `outDir` of the pack; returns their manifest records. */
export async function writeTokenizerFolder(files: TokenizerFolderFiles, sink: PackSink, outDir: string): Promise<PackFile[]> {
  return [
    await writeWhole(sink, joinPath(outDir, 'tokenizer.json'), JSON.stringify(buildClipTokenizerJson(files))),
    await writeWhole(sink, joinPath(outDir, 'tokenizer_config.json'), JSON.stringify(buildClipTokenizerConfig(files), null, 1)),
  ];
}
