// --long-frames of `npm run convert` and `npm run make-tiny-pack`: which long-video base graphs a
// pack gets. The lengths' rule is the request contract's (src/protocol/request.ts).
import { framesProblem, LIMITS, longLengths } from '../../protocol/request.ts';

/** --long-frames: "all" or a comma list, each a length the request contract allows above 16. */
export function longFramesArg(v: string): number[] {
  if (v === 'all') return longLengths();
  const out = v.split(',').map((x) => Number(x.trim()));
  for (const n of out) {
    const bad = framesProblem(n) ?? (n === LIMITS.frames.min ? 'is the base length already' : null);
    if (bad) throw new Error(`--long-frames: ${n} ${bad}`);
  }
  return [...new Set(out)].sort((a, b) => a - b);
}

