// Several prompts over frame ranges of one (long) base video: a per-frame prompt schedule. (The
// official FreeNoise-LaVie takes one prompt per video; several per video is ours.) Each
// frame's spatial cross-attention reads its range's text; the temporal attention (FreeNoise's
// overlapping 16-frame windows) blends across a boundary, so the change of prompt is gradual.
// Chosen over FreeNoise's motion injection (prompt switched per denoising step and per layer) because
// it needs no step/layer-specific graph variants: one graph input, [(B·F), 77, D] contexts, built
// with the `perFrameText` option of the base UNet; one prompt for every range is exactly the
// single-prompt video. The ranges' rules are the request contract's (segmentsProblem).
import { BadRequestError, segmentsProblem, type GenerateRequest, type PromptSegment } from '../protocol.ts';

/** The distinct prompts of a video and each frame's index into them. */
export interface PromptSchedule { prompts: string[]; index: number[] }

/** The base stage's schedule for `frames` frames: the request's ranges, or its prompt on every frame. */
export function promptSchedule(req: Pick<GenerateRequest, 'prompt' | 'segments'>, frames: number): PromptSchedule {
  if (!req.segments) return { prompts: [req.prompt], index: Array.from({ length: frames }, () => 0) };
  const prompts = [...new Set(req.segments.map((g) => g.prompt))];
  const ranges = framePromptIndex(req.segments, frames);
  return { prompts, index: ranges.map((r) => prompts.indexOf(req.segments![r]!.prompt)) };
}

/** The prompt index of every frame of a video of `frames` frames. */
export function framePromptIndex(segments: readonly PromptSegment[], frames: number): number[] {
  const why = segmentsProblem(segments, frames);
  if (why) throw new BadRequestError(`Prompts over frame ranges ${why}.`, 'segments');
  return segments.flatMap((g, i) => Array.from({ length: g.to - g.from + 1 }, () => i));
}

/**
 * Per-frame contexts for one CFG branch: row f = the embedding [L·D] of prompt index[f] ([F, L, D]
 * flattened); the two branches are [negative × F] and [prompt(f)], batch-major [(B·F), L, D] when concatenated.
 */
export function perFrameContexts(embeddings: readonly Float32Array[], index: readonly number[]): Float32Array {
  const size = embeddings[0]!.length;
  const out = new Float32Array(index.length * size);
  index.forEach((p, f) => out.set(embeddings[p]!, f * size));
  return out;
}

/**
 * The one text of base frames from … to (inclusive), for stages whose network takes one context per
 * call (the interpolation's 16-frame segments): the range covering most of those frames, the earlier
 * on a tie; the request's prompt when it has no ranges. Ranges span ≥ 16 frames, so a 16-frame
 * segment meets at most two. (Not a blend of embeddings: LaVie's interpolation model never saw one.)
 */
export function promptOverFrames(req: Pick<GenerateRequest, 'prompt' | 'segments'>, from: number, to: number): string {
  if (!req.segments?.length) return req.prompt;
  let best = req.segments[0]!;
  let bestCover = -1;
  for (const g of req.segments) {
    const cover = Math.min(to, g.to) - Math.max(from, g.from) + 1;
    if (cover > bestCover) [best, bestCover] = [g, cover];
  }
  return best.prompt;
}
