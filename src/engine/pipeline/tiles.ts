// Spatial tiling for the super-resolution stage: LaVie runs its VSR UNet and x4 VAE decoder on
// whole 320×512 frames, which needs 4–5 GB tensors; we run fixed-size tiles (one static graph)
// that overlap, and blend their outputs with weights that ramp linearly across each overlap and
// are normalised to sum to 1 at every pixel. Where a tile covers the whole frame its weight is 1
// everywhere, so the result equals the untiled one exactly.

export interface Tile { y0: number; x0: number; h: number; w: number }

/** Start offsets of tiles of length `tile` covering [0, len) with at least `overlap` shared. */
export function axisStarts(len: number, tile: number, overlap: number): number[] {
  if (tile >= len) return [0];
  if (overlap >= tile) throw new RangeError(`overlap ${overlap} must be smaller than the tile ${tile}`);
  const stride = tile - overlap;
  const n = Math.ceil((len - tile) / stride) + 1;
  // Spread the tiles evenly so every overlap is ≥ `overlap` and the last tile ends at `len`.
  return Array.from({ length: n }, (_, i) => Math.round((i * (len - tile)) / (n - 1)));
}

/** 1-D weight of position p in a tile [s, s+t) of an axis of length len: ramps only towards neighbours. */
function ramp(p: number, s: number, t: number, len: number, overlap: number): number {
  const r = overlap + 1;
  let w = 1;
  if (s > 0) w = Math.min(w, (p + 1) / r);
  if (s + t < len) w = Math.min(w, (t - p) / r);
  return w;
}

export interface TilePlan {
  tiles: Tile[];
  /** Per tile, a [h·w] plane of blend weights; over all tiles they sum to 1 at every pixel. */
  weights: Float32Array[];
}

export function planTiles(height: number, width: number, tileH: number, tileW: number, overlap: number): TilePlan {
  const th = Math.min(tileH, height);
  const tw = Math.min(tileW, width);
  const ys = axisStarts(height, th, overlap);
  const xs = axisStarts(width, tw, overlap);
  const tiles: Tile[] = ys.flatMap((y0) => xs.map((x0) => ({ y0, x0, h: th, w: tw })));
  const raw = tiles.map((t) => {
    const w = new Float32Array(th * tw);
    for (let y = 0; y < th; y++) for (let x = 0; x < tw; x++) w[y * tw + x] = ramp(y, t.y0, th, height, overlap) * ramp(x, t.x0, tw, width, overlap);
    return w;
  });
  const sum = new Float64Array(height * width);
  tiles.forEach((t, i) => {
    for (let y = 0; y < th; y++) for (let x = 0; x < tw; x++) sum[(t.y0 + y) * width + t.x0 + x]! += raw[i]![y * tw + x]!;
  });
  const weights = tiles.map((t, i) => {
    const w = raw[i]!;
    for (let y = 0; y < th; y++) for (let x = 0; x < tw; x++) w[y * tw + x] = w[y * tw + x]! / sum[(t.y0 + y) * width + t.x0 + x]!;
    return w;
  });
  return { tiles, weights };
}

/** Scale a plan by an integer factor (latent tiles → decoded-image tiles of the x4 VAE). */
export function scalePlan(plan: TilePlan, factor: number, height: number, width: number, overlap: number): TilePlan {
  const t = plan.tiles[0]!;
  return planTiles(height * factor, width * factor, t.h * factor, t.w * factor, overlap * factor);
}
