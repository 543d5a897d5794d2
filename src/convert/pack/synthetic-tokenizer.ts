// A small, deterministic CLIP-format BPE tokenizer for the demo/test pack (the real 49408-token
// vocabulary comes with the user's SD-1.4 folder and cannot be fetched here). Same layout as the
// real one: 256 byte symbols (GPT-2 order), the same with `</w>`, merges, then
// <|startoftext|> and <|endoftext|> as the last two ids.

export function bytesToUnicode(): string[] {
  const bs: number[] = [];
  for (let c = 33; c <= 126; c++) bs.push(c);
  for (let c = 161; c <= 172; c++) bs.push(c);
  for (let c = 174; c <= 255; c++) bs.push(c);
  const cs = [...bs];
  let n = 0;
  for (let b = 0; b < 256; b++) {
    if (!bs.includes(b)) {
      bs.push(b);
      cs.push(256 + n++);
    }
  }
  const table: string[] = new Array(256);
  bs.forEach((b, i) => (table[b] = String.fromCharCode(cs[i]!)));
  return table;
}

// Frequent English pieces; each merge's parts exist before it (letters, then earlier merges).
const MERGES: [string, string][] = [
  ['t', 'h'], ['th', 'e</w>'], ['a', 'n'], ['i', 'n'], ['e', 'r'], ['o', 'n</w>'], ['r', 'e'], ['a', 't</w>'],
  ['e', 'n'], ['o', 'r</w>'], ['i', 's</w>'], ['a', 'n</w>'], ['an', 'd</w>'], ['in', 'g</w>'], ['o', 'f</w>'],
  ['t', 'o</w>'], ['a', 'r'], ['s', 't'], ['e', 'd</w>'], ['c', 'a'], ['ca', 't</w>'], ['d', 'o'], ['do', 'g</w>'],
  ['v', 'i'], ['vi', 'd'], ['e', 'o</w>'], ['vid', 'eo</w>'], ['w', 'i'], ['t', 'h</w>'], ['wi', 'th</w>'], ['s', 'e'], ['a', 'l'],
  ['l', 'y</w>'], ['o', 'u'], ['h', 'i'], ['g', 'h</w>'], ['hi', 'gh</w>'], ['b', 'e'], ['a', 'r</w>'], ['be', 'ar</w>'], ['p', 'l'],
  ['pl', 'a'], ['pla', 'y'], ['play', 'ing</w>'], ['q', 'u'], ['qu', 'al'], ['i', 't'], ['it', 'y</w>'], ['qual', 'ity</w>'],
];

export function syntheticClipTokenizerFiles(): { vocab: Record<string, number>; merges: string[] } {
  const byteSyms = bytesToUnicode();
  const tokens = [...byteSyms, ...byteSyms.map((s) => `${s}</w>`)];
  const seen = new Set(tokens);
  for (const [a, b] of MERGES) {
    if (!seen.has(a) || !seen.has(b)) throw new Error(`synthetic merge ${a} ${b}: part missing`);
    const m = a + b;
    if (!seen.has(m)) {
      seen.add(m);
      tokens.push(m);
    }
  }
  tokens.push('<|startoftext|>', '<|endoftext|>');
  return { vocab: Object.fromEntries(tokens.map((t, i) => [t, i])), merges: MERGES.map(([a, b]) => `${a} ${b}`) };
}

/** The synthetic tokenizer as the files of an SD-1.4 `tokenizer/` folder (name → bytes). */
export function syntheticTokenizerFolderFiles(opts: { padToken?: string } = {}): { files: Map<string, Uint8Array>; vocabSize: number } {
  const { vocab, merges } = syntheticClipTokenizerFiles();
  const special = { bos_token: '<|startoftext|>', eos_token: '<|endoftext|>', unk_token: '<|endoftext|>', pad_token: opts.padToken ?? '<|endoftext|>' };
  const enc = (s: string) => new TextEncoder().encode(s);
  const files = new Map<string, Uint8Array>([
    ['vocab.json', enc(JSON.stringify(vocab))],
    ['merges.txt', enc(['#version: 0.2', ...merges].join('\n') + '\n')],
    ['special_tokens_map.json', enc(JSON.stringify(special, null, 1))],
    ['tokenizer_config.json', enc(JSON.stringify({ ...special, tokenizer_class: 'CLIPTokenizer', model_max_length: 77, do_lower_case: true }, null, 1))],
  ]);
  return { files, vocabSize: Object.keys(vocab).length };
}
