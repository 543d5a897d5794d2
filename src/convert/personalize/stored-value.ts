// What a pack stores for a weight at a given precision, read back as float32 — the "dequantize" half
// of personalizing an installed pack (dequantize → merge → requantize the changed tensors). Mirrors
// graphs/weights.ts: fp16 per element; int8 per output channel (convs always, linears at int8); int4
// MatMulNBits blocks of 32 along the input for linears. Norm scales and biases stay float32.
import { f16ToF32, f32ToF16, type Shape } from '../tensor.ts';
import { MATMUL_NBITS_BLOCK, quantizeInt8, quantizeNBits4, type WeightPrecision } from '../graphs/weights.ts';

export function storedValue(w: Float32Array, shape: Shape, precision: WeightPrecision): Float32Array {
  if (precision === 'fp32' || shape.length < 2) return w;
  if (precision === 'fp16') return Float32Array.from(w, (v) => f16ToF32(f32ToF16(v)));
  const out = shape[0]!;
  const cols = w.length / out;
  if (precision === 'int4' && shape.length === 2) {
    const { packed, scales } = quantizeNBits4(w, out, cols);
    const blocks = Math.ceil(cols / MATMUL_NBITS_BLOCK);
    const r = new Float32Array(w.length);
    for (let n = 0; n < out; n++) for (let k = 0; k < cols; k++) {
      const kb = Math.floor(k / MATMUL_NBITS_BLOCK);
      const byte = packed[(n * blocks + kb) * (MATMUL_NBITS_BLOCK / 2) + ((k % MATMUL_NBITS_BLOCK) >> 1)]!;
      const q = k % 2 ? byte >> 4 : byte & 15;
      r[n * cols + k] = (q - 8) * scales[n * blocks + kb]!;
    }
    return r;
  }
  // int8 (and int4 convs): per output channel. A linear [out, in] stored transposed with axis 1 has
  // the same channels as [out, in] with axis 0.
  const { q, scale } = quantizeInt8(w, [out, cols], 0);
  return Float32Array.from(q, (v, i) => v * scale[Math.floor(i / cols)]!);
}
