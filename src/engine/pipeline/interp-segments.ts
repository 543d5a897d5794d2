// The interpolation model takes 16 base frames and makes 4·16 − 3 = 61 (output frame j sits at
// base time j/4). A longer base video (FreeNoise: L = 16 + 4k) is covered by 16-frame segments
// starting 15 apart, so consecutive segments share a boundary frame; the last starts at L − 16
// and may overlap its predecessor by more. Every output index n of the long video (base time n/4,
// 0 ≤ n < 4L − 3) is taken from exactly one segment: the earlier one up to the middle of the
// overlap, the later one from there on — no frame duplicated or missing at a boundary, and each
// output frame keeps the condition frame it would have in one long interpolation (⌊(n+1)/4⌋).

import { interpolatedFrames } from '../../protocol.ts';

export interface InterpSegment {
  /** First base frame of the segment (it reads base frames start … start + size − 1). */
  start: number;
  /** Segment-local output frames kept: from … to − 1 (global index = 4·start + local). */
  from: number;
  to: number;
}

/** Output frames of interpolating L base frames (also the single-segment 16 → 61): the contract's rule. */
export const interpOutputFrames = interpolatedFrames;

export function interpSegments(baseFrames: number, size = 16): InterpSegment[] {
  if (!Number.isInteger(baseFrames) || baseFrames < size) throw new RangeError(`interpolation: ${baseFrames} base frames, at least ${size} needed`);
  const starts: number[] = [];
  for (let s = 0; ; s = Math.min(s + size - 1, baseFrames - size)) {
    starts.push(s);
    if (s + size >= baseFrames) break;
  }
  const segOut = interpOutputFrames(size);
  // Switch from segment a to the next (b) at the middle of their overlap [b, a + size − 1] in output indices.
  const cuts = starts.slice(1).map((b, i) => 2 * (starts[i]! + b + size - 1));
  return starts.map((s, i) => ({ start: s, from: i ? cuts[i - 1]! - 4 * s : 0, to: i < cuts.length ? cuts[i]! - 4 * s : segOut }));
}
