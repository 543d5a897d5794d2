// Synthetic checkpoints: random weights under the official key names and shapes, for any config.
// The keys are not listed anywhere: a network is built with `Params(..., synthesizer(seed))`, and
// every tensor it asks for is created with the shape it expects — so the one network definition is
// also the one list of keys. Values are made lazily on read(), so a full-size (909 M-param) UNet
// never sits in memory whole.
import { DEFAULT_MAX_TENSOR_BYTES, type NetCtx } from './graphs/nn.ts';
import { Params, type Synthesizer } from './graphs/params.ts';
import { GraphBuilder } from './onnx/graph.ts';
import type { Shape, StateDict, TensorRef } from './tensor.ts';
import { numel } from './tensor.ts';
import { mulberry32 } from './prng.ts';

/** FNV-1a 32-bit hash of a string (stable seed per key). */
export function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

export { mulberry32 } from './prng.ts';

export function fillNormal(out: Float32Array, rand: () => number, scale = 1, offset = 0): Float32Array {
  for (let i = 0; i < out.length; i += 2) {
    const u1 = Math.max(rand(), 1e-12);
    const r = Math.sqrt(-2 * Math.log(u1));
    const th = 2 * Math.PI * rand();
    out[i] = offset + scale * r * Math.cos(th);
    if (i + 1 < out.length) out[i + 1] = offset + scale * r * Math.sin(th);
  }
  return out;
}

/** RoPE inverse frequencies as rotary_embedding_torch stores them: 1 / 10000^(2i/32), i < 16. */
export function ropeFreqs(dim = 32): Float32Array {
  return Float32Array.from({ length: dim / 2 }, (_, i) => 1 / 10000 ** ((2 * i) / dim));
}

/**
 * Random tensors like the fixtures' generator: ≥2-d ~ N(0,1)/√fan_in; 1-d `*.weight` (norm scales)
 * ~ 1 + 0.1·N(0,1); other 1-d ~ 0.1·N(0,1). RoPE `freqs` keep their constant values.
 */
export function synthesizer(seed: number): Synthesizer {
  return (key: string, shape: Shape): TensorRef => {
    const s = [...shape];
    const read = (): Float32Array => {
      const out = new Float32Array(numel(s));
      if (key.endsWith('rotary_emb.freqs')) return ropeFreqs(2 * s[0]!);
      const rand = mulberry32(hashString(key) ^ Math.imul(seed, 0x9e3779b1));
      if (s.length >= 2) return fillNormal(out, rand, 1 / Math.sqrt(numel(s.slice(1))));
      if (key.endsWith('.weight')) return fillNormal(out, rand, 0.1, 1);
      return fillNormal(out, rand, 0.1);
    };
    return { dtype: 'float32', shape: s, read };
  };
}

/**
 * The state dict a network asks for, with random values: build it once with synthetic parameters
 * (the network definition is the key list) and keep what it read. Lazy: values are made on read().
 */
export function syntheticStateDict(seed: number, build: (ctx: NetCtx) => void): StateDict {
  const p = new Params(new Map(), 'synthetic', synthesizer(seed));
  build({ g: new GraphBuilder('probe'), p, precision: 'fp32', maxTensorBytes: DEFAULT_MAX_TENSOR_BYTES });
  return p.sd;
}
