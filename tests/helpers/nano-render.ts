// Synthetic LaVie-nano frames for the classifier tests: a coloured shape over a background, drawn
// with anti-aliased edges like the training data (coordinates in frame heights, 8:5 frames).
import type { Frame } from '../../src/nano/classify.ts';
import { NANO_COLORS, NANO_FLAT_BACKGROUNDS, NANO_GRADIENT, type NanoScene } from '../../src/nano/vocabulary.ts';

export interface Placement { r0: number; start: [number, number]; end: [number, number]; r1?: number }

/** A clip of `scene` placed in the middle of its range, with travel 0.6 heights (data.py: 0.45–0.75). */
export function placement(scene: NanoScene): Placement {
  const r0 = 0.13;
  const W = 1.6;
  switch (scene.motion) {
    case 'left': return { r0, start: [W / 2 + 0.4, 0.45], end: [W / 2 - 0.4, 0.45] };
    case 'right': return { r0, start: [W / 2 - 0.4, 0.55], end: [W / 2 + 0.4, 0.55] };
    case 'up': return { r0, start: [0.7, 0.78], end: [0.7, 0.22] };
    case 'down': return { r0, start: [0.9, 0.22], end: [0.9, 0.78] };
    case 'growing': return { r0: 0.1, r1: 0.22, start: [0.8, 0.5], end: [0.8, 0.5] };
  }
}

/** Frames at `times` (0…15, base-frame units) at height × width pixels. */
export function renderScene(scene: NanoScene, times: readonly number[], height: number, width: number, p: Placement = placement(scene), extra?: (t: number) => Placement & { color: keyof typeof NANO_COLORS } | null): Frame[] {
  const px = 1 / height;
  const bg = (y: number): number[] => {
    if (scene.background === 'gradient') return NANO_GRADIENT.top.map((v, c) => v * (1 - y) + NANO_GRADIENT.bottom[c]! * y);
    const v = NANO_FLAT_BACKGROUNDS[scene.background];
    return [v, v, v];
  };
  const sdf = (shape: string, dx: number, dy: number, r: number) => {
    if (shape === 'circle') return Math.hypot(dx, dy) - r;
    if (shape === 'square') return Math.max(Math.abs(dx), Math.abs(dy)) - 0.85 * r;
    const k = Math.sqrt(3) / 2;
    return Math.max(dy - 0.5 * r, -k * dx - 0.5 * dy - 0.5 * r, k * dx - 0.5 * dy - 0.5 * r);
  };
  return times.map((t) => {
    const rgba = new Uint8ClampedArray(width * height * 4);
    const objs = [{ p, color: scene.color, shape: scene.shape }];
    const e = extra?.(t);
    if (e) objs.push({ p: e, color: e.color, shape: 'circle' });
    for (let y = 0; y < height; y++) {
      const fy = (y + 0.5) * px;
      const b = bg(fy);
      for (let x = 0; x < width; x++) {
        const fx = (x + 0.5) * px;
        let c = b;
        for (const o of objs) {
          const a = Math.min(Math.max(t / 15, 0), 1);
          const cx = o.p.start[0] + (o.p.end[0] - o.p.start[0]) * a;
          const cy = o.p.start[1] + (o.p.end[1] - o.p.start[1]) * a;
          const r = o.p.r0 + ((o.p.r1 ?? o.p.r0) - o.p.r0) * a;
          const alpha = Math.min(1, Math.max(0, 0.5 - sdf(o.shape, fx - cx, fy - cy, r) / px));
          c = c.map((v, i) => v * (1 - alpha) + NANO_COLORS[o.color][i]! * alpha);
        }
        rgba.set([c[0]! * 255, c[1]! * 255, c[2]! * 255, 255], 4 * (y * width + x));
      }
    }
    return { width, height, rgba };
  });
}

export const baseTimes = Array.from({ length: 16 }, (_, i) => i);
export const interpTimes = Array.from({ length: 61 }, (_, j) => j / 4);
