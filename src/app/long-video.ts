// The form's long-video fields (length, prompts over frame ranges) as data: the lengths offered, how
// many ranges a length allows, and ranges laid out evenly when the user adds or removes one or changes
// the length. The ranges' rules are the request contract's (segmentsProblem); nothing here validates.
import { LIMITS } from '../protocol.ts';

/** A prompt range as typed in the form (numbers stay text until Generate). */
export interface RangeField { prompt: string; from: string; to: string }

/** Every length the contract allows (16, 20, …, 64), and whether the pack offers it. */
export function lengthChoices(offered: readonly number[] | undefined): { frames: number; offered: boolean }[] {
  const { min, max, step } = LIMITS.frames;
  const have = offered ?? [min];
  return Array.from({ length: (max - min) / step + 1 }, (_, i) => min + i * step).map((frames) => ({ frames, offered: have.includes(frames) }));
}

/** How many ranges a video of `frames` frames can have (each spans ≥ LIMITS.segmentFrames). */
export const maxRanges = (frames: number): number => Math.floor(frames / LIMITS.segmentFrames);

/**
 * `count` ranges tiling 0 … frames − 1: each LIMITS.segmentFrames plus an even share of the rest in
 * whole 4-frame blocks (FreeNoise's window stride, so each boundary sits where a window starts).
 * `prompts` are kept in order; missing ones are empty.
 */
export function layoutRanges(count: number, frames: number, prompts: readonly string[] = []): RangeField[] {
  const n = Math.max(0, Math.min(count, maxRanges(frames)));
  const block = LIMITS.frames.step;
  const blocks = Math.floor((frames - n * LIMITS.segmentFrames) / block);
  const out: RangeField[] = [];
  let from = 0;
  for (let i = 0; i < n; i++) {
    const share = Math.floor((blocks * (i + 1)) / n) - Math.floor((blocks * i) / n);
    const to = i === n - 1 ? frames - 1 : from + LIMITS.segmentFrames + share * block - 1;
    out.push({ prompt: prompts[i] ?? '', from: String(from), to: String(to) });
    from = to + 1;
  }
  return out;
}
