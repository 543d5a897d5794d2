// What a LaVie-nano video shows, read from its decoded RGBA frames: background, the object's mask,
// colour, shape, motion; and the checks after interpolation (smooth, monotonic motion, no new
// objects) and super-resolution (colour and position kept, edges sharper than bicubic).
// Pure functions over frames; thresholds are in units of the frame (heights, 0…1 colours) so they
// hold at every stage's size. Tested on synthetic frames in tests/nano/classify.test.ts.
import { NANO_COLORS, NANO_FLAT_BACKGROUNDS, NANO_GRADIENT, type NanoBackground, type NanoColor, type NanoMotion, type NanoShape } from './vocabulary.ts';

export interface Frame { width: number; height: number; rgba: Uint8Array | Uint8ClampedArray }
type Rgb = [number, number, number];

const rgbAt = (f: Frame, x: number, y: number): Rgb => {
  const i = 4 * (y * f.width + x);
  return [f.rgba[i]! / 255, f.rgba[i + 1]! / 255, f.rgba[i + 2]! / 255];
};
const dist = (a: readonly number[], b: readonly number[]) => Math.hypot(a[0]! - b[0]!, a[1]! - b[1]!, a[2]! - b[2]!);
const median = (v: number[]) => {
  const s = [...v].sort((a, b) => a - b);
  return s.length ? s[s.length >> 1]! : NaN;
};

/** Background colour per row: the median over all frames of a few pixels at both side edges (the
 * object never touches them; the gradient varies only with the row). */
export function backgroundRows(frames: readonly Frame[]): Rgb[] {
  const f0 = frames[0]!;
  const edge = Math.max(1, Math.round(f0.width / 64));
  return Array.from({ length: f0.height }, (_, y) => {
    const ch: number[][] = [[], [], []];
    for (const f of frames) {
      for (let k = 0; k < edge; k++) {
        for (const x of [k, f.width - 1 - k]) rgbAt(f, x, y).forEach((v, c) => ch[c]!.push(v));
      }
    }
    return ch.map(median) as Rgb;
  });
}

/** black / white / gray / gradient: the nearest of data.py's backgrounds, from the top and bottom rows. */
export function classifyBackground(rows: readonly Rgb[]): NanoBackground {
  const band = Math.max(1, Math.round(rows.length / 10));
  const mean = (rs: readonly Rgb[]) => [0, 1, 2].map((c) => rs.reduce((s, r) => s + r[c]!, 0) / rs.length);
  const top = mean(rows.slice(0, band));
  const bottom = mean(rows.slice(-band));
  const candidates: [NanoBackground, number][] = Object.entries(NANO_FLAT_BACKGROUNDS).map(([k, v]) => [k as NanoBackground, dist(top, [v, v, v]) + dist(bottom, [v, v, v])]);
  // The gradient's top/bottom bands are a tenth in from its ends.
  const a = (band / 2) / rows.length;
  const lerp = (t: number) => NANO_GRADIENT.top.map((v, c) => v * (1 - t) + NANO_GRADIENT.bottom[c]! * t);
  candidates.push(['gradient', dist(top, lerp(a)) + dist(bottom, lerp(1 - a))]);
  return candidates.sort((p, q) => p[1] - q[1])[0]![0];
}

/** Pixels that differ from the background by more than this (RGB distance, 0…√3). */
const MASK_THRESHOLD = 0.25;

export interface Blob { area: number; cx: number; cy: number; x0: number; x1: number; y0: number; y1: number; fill: number }

/** Foreground mask of one frame against the background rows. */
export function foreground(f: Frame, rows: readonly Rgb[]): Uint8Array {
  const m = new Uint8Array(f.width * f.height);
  const t2 = (MASK_THRESHOLD * 255) ** 2;
  for (let y = 0; y < f.height; y++) {
    const [br, bg, bb] = rows[y]!.map((v) => v * 255) as Rgb;
    for (let x = 0, i = y * f.width; x < f.width; x++, i++) {
      const r = f.rgba[4 * i]! - br, g = f.rgba[4 * i + 1]! - bg, b = f.rgba[4 * i + 2]! - bb;
      m[i] = r * r + g * g + b * b > t2 ? 1 : 0;
    }
  }
  return m;
}

/** Connected components (4-neighbour) of a mask, largest first; specks under `minArea` pixels dropped. */
export function components(mask: Uint8Array, width: number, height: number, minArea: number): Blob[] {
  const label = new Int32Array(mask.length);
  const out: Blob[] = [];
  const stack: number[] = [];
  for (let start = 0; start < mask.length; start++) {
    if (!mask[start] || label[start]) continue;
    label[start] = 1;
    stack.push(start);
    let area = 0, sx = 0, sy = 0, x0 = width, x1 = -1, y0 = height, y1 = -1;
    while (stack.length) {
      const p = stack.pop()!;
      const x = p % width, y = (p - x) / width;
      area++; sx += x; sy += y;
      x0 = Math.min(x0, x); x1 = Math.max(x1, x); y0 = Math.min(y0, y); y1 = Math.max(y1, y);
      for (const q of [x > 0 ? p - 1 : -1, x < width - 1 ? p + 1 : -1, y > 0 ? p - width : -1, y < height - 1 ? p + width : -1]) {
        if (q >= 0 && mask[q] && !label[q]) { label[q] = 1; stack.push(q); }
      }
    }
    if (area >= minArea) out.push({ area, cx: sx / area + 0.5, cy: sy / area + 0.5, x0, x1, y0, y1, fill: area / ((x1 - x0 + 1) * (y1 - y0 + 1)) });
  }
  return out.sort((a, b) => b.area - a.area);
}

/** Smallest object that counts, in pixels: (2 % of the height)² — well under data.py's smallest shape. */
export const minObjectArea = (f: Frame) => Math.max(2, Math.round((0.02 * f.height) ** 2));

export interface FrameObjects { mask: Uint8Array; blobs: Blob[]; main: Blob | null }

/** Per frame: the mask, its blobs and the object (the largest blob, unless it covers over half the
 * frame: then the "object" is the frame itself, e.g. noise, and there is none). */
export function objectsPerFrame(frames: readonly Frame[], rows = backgroundRows(frames)): FrameObjects[] {
  return frames.map((f) => {
    const mask = foreground(f, rows);
    const blobs = components(mask, f.width, f.height, minObjectArea(f));
    const main = blobs[0] && blobs[0].area <= 0.5 * f.width * f.height ? blobs[0] : null;
    return { mask, blobs, main };
  });
}

/** The object's colour: the median of its pixels well inside the mask (edges mix with the background). */
export function classifyColor(frames: readonly Frame[], objs: readonly FrameObjects[]): NanoColor | null {
  const ch: number[][] = [[], [], []];
  for (const [k, f] of frames.entries()) {
    const { mask: m, main } = objs[k]!;
    if (!main) continue;
    for (let y = Math.max(1, main.y0); y <= Math.min(f.height - 2, main.y1); y++) {
      for (let x = Math.max(1, main.x0); x <= Math.min(f.width - 2, main.x1); x++) {
        const i = y * f.width + x;
        if (m[i] && m[i - 1] && m[i + 1] && m[i - f.width] && m[i + f.width]) for (let c = 0; c < 3; c++) ch[c]!.push(f.rgba[4 * i + c]! / 255);
      }
    }
  }
  if (!ch[0]!.length) return null;
  const c = ch.map(median);
  return (Object.entries(NANO_COLORS) as [NanoColor, readonly number[]][]).sort((a, b) => dist(c, a[1]) - dist(c, b[1]))[0]![0];
}

/** circle / square / triangle by how much of its bounding box the object fills (π/4, 1, ½). */
export function classifyShape(objs: readonly FrameObjects[]): NanoShape | null {
  const fills = objs.flatMap((o) => (o.main && o.main.area >= 12 ? [o.main.fill] : []));
  if (!fills.length) return null;
  const fill = median(fills);
  return fill > 0.9 ? 'square' : fill > 0.64 ? 'circle' : 'triangle';
}

/** Least-squares slope of v over its index. */
function slope(v: readonly number[]): number {
  const n = v.length;
  const mx = (n - 1) / 2;
  const my = v.reduce((s, x) => s + x, 0) / n;
  let num = 0, den = 0;
  v.forEach((y, i) => { num += (i - mx) * (y - my); den += (i - mx) ** 2; });
  return den ? num / den : 0;
}

/** left / right / up / down / growing, from the centroid's and the area's change over the video. */
export function classifyMotion(objs: readonly FrameObjects[], f: Frame): NanoMotion | null {
  const tracked = objs.map((o) => o.main);
  if (tracked.some((b) => !b)) return null; // the object must be there in every frame
  const bs = tracked as Blob[];
  const span = bs.length - 1;
  const dx = (slope(bs.map((b) => b.cx)) * span) / f.height;
  const dy = (slope(bs.map((b) => b.cy)) * span) / f.height;
  const growth = Math.sqrt(bs.at(-1)!.area / bs[0]!.area);
  // data.py: moving objects travel ≥ 0.45 heights at constant size; growing ones ×1.8–2.4 in place.
  if (growth > 1.4 && Math.hypot(dx, dy) < 0.15) return 'growing';
  if (Math.max(Math.abs(dx), Math.abs(dy)) < 0.15) return null;
  return Math.abs(dx) >= Math.abs(dy) ? (dx < 0 ? 'left' : 'right') : dy < 0 ? 'up' : 'down';
}

export interface VideoReading {
  background: NanoBackground;
  color: NanoColor | null;
  shape: NanoShape | null;
  motion: NanoMotion | null;
  /** Most objects seen in one frame. */
  maxObjects: number;
  /** The main object's centroid per frame (pixels), null where there is none. */
  track: ({ x: number; y: number; area: number } | null)[];
}

export function readVideo(frames: readonly Frame[]): VideoReading {
  const rows = backgroundRows(frames);
  const objs = objectsPerFrame(frames, rows);
  return {
    background: classifyBackground(rows),
    color: classifyColor(frames, objs),
    shape: classifyShape(objs),
    motion: classifyMotion(objs, frames[0]!),
    maxObjects: Math.max(...objs.map((o) => o.blobs.length)),
    track: objs.map((o) => (o.main ? { x: o.main.cx, y: o.main.cy, area: o.main.area } : null)),
  };
}

export interface InterpCheck { monotonic: boolean; smooth: boolean; noNewObjects: boolean }

/**
 * After interpolation: along the motion's axis the centroid never steps back by more than 1 % of the
 * height (growing: the area never shrinks by more than 10 %), no step is over 3× the mean step plus
 * 1 % of the height (no jumps), and no frame has more objects than the base video had.
 */
export function checkInterpolation(r: VideoReading, f: Frame, baseObjects: number): InterpCheck {
  const noNewObjects = r.maxObjects <= Math.max(1, baseObjects);
  if (r.track.some((t) => !t) || !r.motion) return { monotonic: false, smooth: false, noNewObjects };
  const t = r.track as { x: number; y: number; area: number }[];
  const value = (p: { x: number; y: number; area: number }) =>
    r.motion === 'growing' ? Math.sqrt(p.area) : r.motion === 'left' ? -p.x : r.motion === 'right' ? p.x : r.motion === 'up' ? -p.y : p.y;
  const v = t.map(value);
  const steps = v.slice(1).map((x, i) => x - v[i]!);
  const tol = 0.01 * f.height;
  const monotonic = r.motion === 'growing'
    ? t.slice(1).every((p, i) => p.area >= 0.9 * t[i]!.area)
    : steps.every((s) => s >= -tol);
  const mean = steps.reduce((s, x) => s + Math.abs(x), 0) / steps.length;
  const smooth = steps.every((s) => Math.abs(s) <= 3 * mean + tol);
  return { monotonic, smooth, noNewObjects };
}

/** Bicubic (Keys, a = −0.5) ×scale upsampling of an RGBA frame, pixel centres aligned. */
export function bicubicUpsample(f: Frame, scale: number): Frame {
  const W = f.width * scale, H = f.height * scale;
  const out = new Uint8ClampedArray(W * H * 4);
  const k = (t: number) => {
    const a = -0.5, x = Math.abs(t);
    return x <= 1 ? (a + 2) * x ** 3 - (a + 3) * x ** 2 + 1 : x < 2 ? a * x ** 3 - 5 * a * x ** 2 + 8 * a * x - 4 * a : 0;
  };
  const clampX = (x: number) => Math.min(f.width - 1, Math.max(0, x));
  const clampY = (y: number) => Math.min(f.height - 1, Math.max(0, y));
  for (let Y = 0; Y < H; Y++) {
    const sy = (Y + 0.5) / scale - 0.5, iy = Math.floor(sy);
    for (let X = 0; X < W; X++) {
      const sx = (X + 0.5) / scale - 0.5, ix = Math.floor(sx);
      for (let c = 0; c < 4; c++) {
        let acc = 0;
        for (let m = -1; m <= 2; m++) {
          const wy = k(sy - (iy + m));
          for (let n = -1; n <= 2; n++) acc += wy * k(sx - (ix + n)) * f.rgba[4 * (clampY(iy + m) * f.width + clampX(ix + n)) + c]!;
        }
        out[4 * (Y * W + X) + c] = acc;
      }
    }
  }
  return { width: W, height: H, rgba: out };
}

/** Edge sharpness: the mean of the largest 1 % of luma gradient magnitudes (0…255 per pixel). */
export function sharpness(f: Frame): number {
  const lum = (x: number, y: number) => { const i = 4 * (y * f.width + x); return 0.299 * f.rgba[i]! + 0.587 * f.rgba[i + 1]! + 0.114 * f.rgba[i + 2]!; };
  const g: number[] = [];
  for (let y = 0; y < f.height - 1; y++) for (let x = 0; x < f.width - 1; x++) g.push(Math.hypot(lum(x + 1, y) - lum(x, y), lum(x, y + 1) - lum(x, y)));
  g.sort((a, b) => b - a);
  const top = g.slice(0, Math.max(1, Math.round(g.length / 100)));
  return top.reduce((s, x) => s + x, 0) / top.length;
}

export interface VsrCheck { colorKept: boolean; positionKept: boolean; sharperThanBicubic: boolean }

/**
 * After super-resolution of `input` (the frames the VSR stage was given): the colour reads the
 * same, every frame's centroid (scaled back) is within 3 % of the height of its input's, and the
 * output's edges are sharper than bicubic upsampling of the input (mean over frames).
 */
export function checkSuperResolution(input: readonly Frame[], output: readonly Frame[], inputReading: VideoReading = readVideo(input), outputReading: VideoReading = readVideo(output)): VsrCheck {
  const scale = output[0]!.width / input[0]!.width;
  const tol = 0.03 * input[0]!.height;
  const positionKept = inputReading.track.every((a, i) => {
    const b = outputReading.track[i];
    return !!a && !!b && Math.hypot(b.x / scale - a.x, b.y / scale - a.y) <= tol;
  });
  let vsr = 0, bic = 0;
  for (const [i, f] of output.entries()) {
    vsr += sharpness(f);
    bic += sharpness(bicubicUpsample(input[i]!, scale));
  }
  return { colorKept: outputReading.color !== null && outputReading.color === inputReading.color, positionKept, sharperThanBicubic: vsr > bic };
}
