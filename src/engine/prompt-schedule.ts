// Several prompts over frame ranges of one (long) base video: a per-frame prompt schedule. Each
// frame's spatial cross-attention reads its range's text; the temporal attention (FreeNoise's
// overlapping 16-frame windows) blends across a boundary, so the change of prompt is gradual.
// Chosen over FreeNoise's motion injection (prompt switched per denoising step and per layer) because
// it needs no step/layer-specific graph variants: one graph input, [(B·F), 77, D] contexts, built
// with the `perFrameText` option of the base UNet; one prompt for every range is exactly the
// single-prompt video.

/** Frames from … to, inclusive (the CLI's "prompt@0-31"). */
export interface PromptRange { prompt: string; from: number; to: number }

/** The prompt index of every frame; the ranges must tile 0 … frames − 1 in order, without gaps or overlaps. */
export function framePromptIndex(ranges: readonly PromptRange[], frames: number): number[] {
  if (!ranges.length) throw new RangeError('prompt schedule: no prompt');
  const index: number[] = [];
  ranges.forEach((r, i) => {
    if (!Number.isInteger(r.from) || !Number.isInteger(r.to) || r.from !== index.length || r.to < r.from) {
      throw new RangeError(`prompt schedule: range ${i + 1} (${r.from}–${r.to}) must start at frame ${index.length} and not end before it starts`);
    }
    for (let f = r.from; f <= r.to; f++) index.push(i);
  });
  if (index.length !== frames) throw new RangeError(`prompt schedule: ranges cover frames 0–${index.length - 1}, the video has ${frames}`);
  return index;
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
