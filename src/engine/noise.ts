// Seeded Gaussian noise, identical in the browser worker and in Node for the same seed.
// Counter-based: value i of stream s depends only on (seed, s, i), so step 37's noise needs no
// pass over steps 0–36, and any slice can be generated on its own. Integer hashing (lowbias32)
// gives uniform u32 pairs; Box–Muller turns them into normals. Math.log/cos/sin are the only
// non-IEEE-exact functions involved; both Chromium and Node run V8's fdlibm port, and the result
// is rounded to float32, so the two agree bit for bit (a golden test pins the values).
import { checkSeed } from '../protocol/request.ts';

function hash32(x: number): number {
  x ^= x >>> 16;
  x = Math.imul(x, 0x7feb352d);
  x ^= x >>> 15;
  x = Math.imul(x, 0x846ca68b);
  x ^= x >>> 16;
  return x >>> 0;
}

/** The key of one stream of a seed. A seed outside the contract's range is refused (BadRequestError),
 * never wrapped onto another seed. */
function streamKey(seed: number, stream: number): number {
  return hash32(hash32(checkSeed(seed)) ^ Math.imul(stream + 1, 0x9e3779b9));
}

/** Streams: 0 = initial latents, k ≥ 1 = the sampler's k-th noise draw; higher bases for other stages. */
export function gaussianNoise(seed: number, stream: number, count: number, offset = 0): Float32Array {
  const out = new Float32Array(count);
  const key = streamKey(seed, stream);
  const TWO32 = 4294967296;
  for (let j = offset - (offset % 2); j < offset + count; j += 2) {
    const pair = j / 2;
    const h1 = hash32(key ^ hash32(2 * pair + 1));
    const h2 = hash32(hash32(key + 0x632be5ab) ^ hash32(2 * pair + 2));
    const u1 = (h1 + 0.5) / TWO32; // in (0, 1): log is finite
    const u2 = (h2 + 0.5) / TWO32;
    const r = Math.sqrt(-2 * Math.log(u1));
    const th = 2 * Math.PI * u2;
    if (j >= offset) out[j - offset] = r * Math.cos(th);
    if (j + 1 >= offset && j + 1 < offset + count) out[j + 1 - offset] = r * Math.sin(th);
  }
  return out;
}


/** Seeded uniforms in [0, 1) on their own stream (same hashing as gaussianNoise; exact in any JS engine). */
export function seededUniforms(seed: number, stream: number, count: number): Float64Array {
  const key = streamKey(seed, stream);
  return Float64Array.from({ length: count }, (_, i) => hash32(key ^ hash32(i + 1)) / 4294967296);
}
