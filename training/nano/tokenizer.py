"""A CLIP-style byte-level BPE tokenizer for the nano models, and its vocabulary builder.

Same file format and algorithm as SD's `tokenizer/` folder (vocab.json + merges.txt): the 256
byte symbols, the same with `</w>`, one entry per merge, then <|startoftext|>, <|endoftext|>.
Merges are learnt (plain BPE training) on the caption vocabulary so every caption word is one
token; any other text still tokenizes (falls back to smaller pieces / single bytes). The
converter turns these files into tokenizer.json; `encode` here follows the slow CLIPTokenizer
without ftfy (lower-case, punctuation split, CLIP regex, BPE) for the ASCII text we train on.
"""
import json
import os
import re
import unicodedata
from collections import Counter

BOS, EOS = "<|startoftext|>", "<|endoftext|>"
MAX_LEN = 77
# CLIP's pattern with \p{L} / \p{N} spelled for Python's re (letters / digits incl. Unicode).
_PAT = re.compile(r"<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[^\W\d_]+|\d|[^\s\w]+|_+", re.UNICODE)


def bytes_to_unicode():
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, map(chr, cs)))


B2U = bytes_to_unicode()


def basic_clean(text):
    """BasicTokenizer(do_lower_case=True): lower-case, strip accents, split punctuation."""
    text = unicodedata.normalize("NFD", text.lower())
    text = "".join(c for c in text if unicodedata.category(c) != "Mn")
    out = []
    for word in text.split():
        cur = ""
        for ch in word:
            cat = unicodedata.category(ch)
            if cat.startswith("P") or (33 <= ord(ch) <= 47) or (58 <= ord(ch) <= 64) or (91 <= ord(ch) <= 96) or (123 <= ord(ch) <= 126):
                if cur:
                    out.append(cur)
                out.append(ch)
                cur = ""
            else:
                cur += ch
        if cur:
            out.append(cur)
    return " ".join(out)


def word_symbols(word):
    syms = [B2U[b] for b in word.encode("utf-8")]
    syms[-1] += "</w>"
    return syms


def learn_merges(words):
    """Plain BPE training on a word list until every word is one symbol."""
    segs = {w: word_symbols(w) for w in sorted(set(words))}
    merges = []
    while True:
        pairs = Counter()
        for s in segs.values():
            for a, b in zip(s, s[1:]):
                pairs[(a, b)] += 1
        if not pairs:
            return merges
        (a, b), _ = max(pairs.items(), key=lambda kv: (kv[1], -len(kv[0][0] + kv[0][1]), kv[0]))
        merges.append((a, b))
        for w, s in segs.items():
            i, out = 0, []
            while i < len(s):
                if i + 1 < len(s) and s[i] == a and s[i + 1] == b:
                    out.append(a + b)
                    i += 2
                else:
                    out.append(s[i])
                    i += 1
            segs[w] = out


class Tokenizer:
    def __init__(self, vocab, merges, pad_token=EOS):
        self.vocab = vocab
        self.ranks = {tuple(m): i for i, m in enumerate(merges)}
        self.pad_id = vocab[pad_token]
        self.cache = {}

    @classmethod
    def from_dir(cls, d):
        with open(os.path.join(d, "vocab.json")) as f:
            vocab = json.load(f)
        with open(os.path.join(d, "merges.txt")) as f:
            lines = [l.rstrip("\n") for l in f]
        merges = [tuple(l.split()) for l in lines if l and not l.startswith("#version")]
        pad = EOS
        p = os.path.join(d, "special_tokens_map.json")
        if os.path.exists(p):
            with open(p) as f:
                t = json.load(f).get("pad_token", EOS)
            pad = t if isinstance(t, str) else t["content"]
        return cls(vocab, merges, pad)

    def bpe(self, token):
        if token in self.cache:
            return self.cache[token]
        s = word_symbols(token) if not token.startswith("<|") else [token]
        while len(s) > 1:
            best = min(((self.ranks.get((a, b), 1 << 30), i) for i, (a, b) in enumerate(zip(s, s[1:]))))
            if best[0] == 1 << 30:
                break
            i = best[1]
            # leftmost occurrence of the best pair first: same result as merging all at once
            s = s[:i] + [s[i] + s[i + 1]] + s[i + 2 :]
        self.cache[token] = s
        return s

    def tokens(self, text):
        out = []
        for tok in _PAT.findall(basic_clean(text)):
            if self.pad_id == self.vocab.get("!") and tok == "!":
                out.append("!")  # the x4 pad token is special: a literal "!" is split off as it
                continue
            out += self.bpe(tok)
        return out

    def encode(self, text, pad=True):
        ids = [self.vocab[BOS]] + [self.vocab[t] for t in self.tokens(text)][: MAX_LEN - 2] + [self.vocab[EOS]]
        return ids + [self.pad_id] * (MAX_LEN - len(ids)) if pad else ids


def build_vocab(words):
    merges = learn_merges(words)
    syms = list(B2U.values())
    vocab = {s: i for i, s in enumerate(syms + [s + "</w>" for s in syms])}
    for a, b in merges:
        vocab.setdefault(a + b, len(vocab))
    vocab[BOS] = len(vocab)
    vocab[EOS] = len(vocab)
    return vocab, merges


def _special(content):
    return {"content": content, "lstrip": False, "normalized": True, "rstrip": False, "single_word": False}


def write_dir(d, vocab, merges, pad_token=EOS):
    """SD-1.4 layout (pad = eos) or, with pad_token "!", the x4-upscaler convention."""
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "vocab.json"), "w") as f:
        json.dump(vocab, f, ensure_ascii=False)
    with open(os.path.join(d, "merges.txt"), "w") as f:
        f.write("#version: 0.2\n" + "".join(f"{a} {b}\n" for a, b in merges))
    stm = {"bos_token": _special(BOS), "eos_token": _special(EOS), "pad_token": pad_token, "unk_token": _special(EOS)}
    with open(os.path.join(d, "special_tokens_map.json"), "w") as f:
        json.dump(stm, f, indent=2)
    cfg = {"add_prefix_space": False, "bos_token": _special(BOS), "do_lower_case": True, "eos_token": _special(EOS), "errors": "replace",
           "model_max_length": MAX_LEN, "pad_token": pad_token, "tokenizer_class": "CLIPTokenizer", "unk_token": _special(EOS)}
    with open(os.path.join(d, "tokenizer_config.json"), "w") as f:
        json.dump(cfg, f, indent=2)


def check_tokenizer_fixture(d):
    """Our encode() against the slow CLIPTokenizer's ids in clip_tokenizer/cases.json (ASCII cases)."""
    with open(os.path.join(d, "cases.json")) as f:
        cases = json.load(f)["cases"]
    ok = True
    n = 0
    for variant, sub in (("sd14", d), ("x4", os.path.join(d, "x4"))):
        tok = Tokenizer.from_dir(sub)
        for c in cases:
            if not c["prompt"].isascii():
                continue
            n += 1
            got = tok.encode(c["prompt"])
            if got != c[variant]["input_ids"]:
                ok = False
                print(f"  tokenizer {variant} FAIL: {c['prompt']!r}\n    got  {got[:24]}\n    want {c[variant]['input_ids'][:24]}")
    print(f"clip_tokenizer: {n} ASCII cases (sd14 + x4) {'ok' if ok else 'FAIL'}")
    return ok
