// FreeNoise (arXiv 2310.15169) on LaVie, as FreeNoise-LaVie does it: the base UNet's temporal
// attention runs on sliding windows of LaVie's native 16 frames (the graph side lives in
// src/convert/graphs/temporal-attention.ts and takes the window rule from here), and the initial
// noise of every later block of `stride` frames is a shuffled copy of the block `size` frames
// earlier, so the windows see correlated noise and the content stays consistent.
// One rule for the converter (graphs), the engine (noise, checks) and the request limits.
import { seededUniforms } from './noise.ts';

/** Temporal attention over sliding windows of `size` frames, `stride` apart. */
export interface TemporalWindows { size: number; stride: number }

/** FreeNoise-LaVie's setting: LaVie's native 16 frames, stride 4. */
export const FREENOISE_WINDOWS: TemporalWindows = { size: 16, stride: 4 };

/** Window start frames, ascending (FreeNoise's get_views): none when frames < size; the last (frames − size) % stride frames are in no window. */
export function windowStarts(frames: number, w: TemporalWindows = FREENOISE_WINDOWS): number[] {
  const starts: number[] = [];
  for (let s = 0; s + w.size <= frames; s += w.stride) starts.push(s);
  return starts;
}

/** Fusion weight of each window position: 1, 2, …, size/2, size/2, …, 1 (FreeNoise's triangular sequence). */
export function windowWeights(size: number): Float32Array {
  if (size % 2) throw new Error(`temporal windows: size ${size} must be even`);
  return Float32Array.from({ length: size }, (_, i) => Math.min(i + 1, size - i));
}

/** Per frame: the sum of the weights of the windows covering it (0 for an uncovered frame). */
export function windowCoverage(frames: number, w: TemporalWindows = FREENOISE_WINDOWS): Float32Array {
  const wt = windowWeights(w.size);
  const count = new Float32Array(frames);
  for (const s of windowStarts(frames, w)) for (let i = 0; i < w.size; i++) count[s + i]! += wt[i]!;
  return count;
}

/** Lengths where windows cover every frame and the noise blocks fit: size + k·stride (k ≥ 0). */
export function isWindowedLength(frames: number, w: TemporalWindows = FREENOISE_WINDOWS): boolean {
  return Number.isInteger(frames) && frames >= w.size && (frames - w.size) % w.stride === 0;
}

/** Seed stream of the shuffles (the base stage's latents use stream 0, its sampler 1…steps). */
export const PERMUTATION_STREAM = 1 << 19;

/**
 * The shuffles, one per destination block b (frames size + stride·b …): perm[b][j] is the ABSOLUTE
 * source frame of destination frame size + stride·b + j, a permutation of the block `size` frames
 * earlier. Fisher–Yates on the seed's own uniform stream: the same in Node and in the browser.
 */
export function noisePermutations(seed: number, frames: number, w: TemporalWindows = FREENOISE_WINDOWS): number[][] {
  if (frames <= w.size) return [];
  if (!isWindowedLength(frames, w)) throw new RangeError(`FreeNoise: ${frames} frames is not ${w.size} + ${w.stride}·k`);
  const blocks = (frames - w.size) / w.stride;
  const u = seededUniforms(seed, PERMUTATION_STREAM, blocks * w.stride);
  return Array.from({ length: blocks }, (_, b) => {
    const p = Array.from({ length: w.stride }, (_, j) => w.stride * b + j);
    for (let i = w.stride - 1; i > 0; i--) {
      const k = Math.floor(u[b * w.stride + i]! * (i + 1));
      [p[i], p[k]] = [p[k]!, p[i]!];
    }
    return p;
  });
}

/** Raw-noise frame each output frame ends up copying (blocks read frames rescheduled before them). */
export function sourceFrames(frames: number, perm: readonly (readonly number[])[], w: TemporalWindows = FREENOISE_WINDOWS): number[] {
  const src = Array.from({ length: frames }, (_, f) => f);
  perm.forEach((p, b) => p.forEach((s, j) => { src[w.size + w.stride * b + j] = src[s]!; }));
  return src;
}

/** FreeNoise-LaVie's prepare_latents rescheduling of NCFHW noise [B, C, F, H, W] (a new array). */
export function rescheduleNoise(noise: Float32Array, shape: readonly number[], perm: readonly (readonly number[])[], w: TemporalWindows = FREENOISE_WINDOWS): Float32Array {
  const [b, c, f, h, wd] = shape as [number, number, number, number, number];
  if (noise.length !== b * c * f * h * wd) throw new Error(`rescheduleNoise: ${noise.length} values for [${shape}]`);
  const plane = h * wd;
  const src = sourceFrames(f, perm, w);
  const out = new Float32Array(noise.length);
  for (let r = 0; r < b * c; r++) for (let t = 0; t < f; t++) out.set(noise.subarray((r * f + src[t]!) * plane, (r * f + src[t]! + 1) * plane), (r * f + t) * plane);
  return out;
}

export interface LatentVideo { channels: number; frames: number; height: number; width: number }

/**
 * The base stage's noise source for a long video: stream 0 (the initial latents [1, C, F, h, w])
 * rescheduled with the seed's shuffles, every other stream unchanged. At `size` frames or fewer
 * there is nothing to reschedule and the source is returned as is.
 */
export function freeNoiseSource(noise: (stream: number, count: number) => Float32Array, seed: number, latent: LatentVideo, w: TemporalWindows = FREENOISE_WINDOWS): (stream: number, count: number) => Float32Array {
  const perm = noisePermutations(seed, latent.frames, w);
  if (!perm.length) return noise;
  const shape = [1, latent.channels, latent.frames, latent.height, latent.width];
  return (stream, count) => (stream === 0 ? rescheduleNoise(noise(0, count), shape, perm, w) : noise(stream, count));
}
