// A cheap look at the latent video while it denoises: SD's latent channels map roughly linearly to
// RGB, so one 4×3 matrix turns the middle frame's latent into a small picture without the VAE.
import type { LatentShape } from './stage.ts';

// Approximate SD-1.x latent → RGB factors (rows: latent channel; columns: R, G, B).
const FACTORS = [
  [0.298, 0.207, 0.208],
  [0.187, 0.286, 0.173],
  [-0.158, 0.189, 0.264],
  [-0.184, -0.271, -0.473],
];

export function latentPreview(x: Float32Array, s: LatentShape): { width: number; height: number; rgba: Uint8ClampedArray } {
  const { channels: c, frames: f, height: h, width: w } = s;
  const frame = Math.floor(f / 2);
  const hw = h * w;
  const rgba = new Uint8ClampedArray(hw * 4);
  for (let i = 0; i < hw; i++) {
    for (let k = 0; k < 3; k++) {
      let v = 0;
      for (let ch = 0; ch < Math.min(c, 4); ch++) v += FACTORS[ch]![k]! * x[(ch * f + frame) * hw + i]!;
      rgba[4 * i + k] = (v + 1) * 127.5;
    }
    rgba[4 * i + 3] = 255;
  }
  return { width: w, height: h, rgba };
}
