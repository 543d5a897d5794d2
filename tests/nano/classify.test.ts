// The evaluation's classifiers (src/nano/classify.ts) on synthetic frames: right on every colour,
// shape, motion and background drawn cleanly; wrong answers where the frames are wrong (noise, a
// jump back, a second object, a blurred or shifted super-resolution).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bicubicUpsample, checkInterpolation, checkSuperResolution, readVideo, type Frame } from '../../src/nano/classify.ts';
import { NANO_BACKGROUNDS, NANO_COLORS, NANO_MOTIONS, NANO_SHAPES, type NanoColor, type NanoScene } from '../../src/nano/vocabulary.ts';
import { baseTimes, interpTimes, placement, renderScene } from '../helpers/nano-render.ts';

const H = 80, W = 128;

test('base video: colour, shape, motion and background read right for every value of each', () => {
  // Every colour × background pair and every shape × motion pair (the other two attributes vary).
  const colors = Object.keys(NANO_COLORS) as NanoColor[];
  const scenes: NanoScene[] = [];
  colors.forEach((color, i) => NANO_BACKGROUNDS.forEach((background, j) => {
    if (color !== 'white' || background !== 'white') scenes.push({ color, background, shape: NANO_SHAPES[(i + j) % 3]!, motion: NANO_MOTIONS[(i + 2 * j) % 5]! });
  }));
  NANO_SHAPES.forEach((shape, i) => NANO_MOTIONS.forEach((motion, j) => {
    const color = colors[(i + j) % 6]!;
    const background = NANO_BACKGROUNDS[(2 * i + j) % 4]!;
    scenes.push({ shape, motion, color, background: color === 'white' && background === 'white' ? 'black' : background });
  }));
  const wrong: string[] = [];
  for (const scene of scenes) {
    const r = readVideo(renderScene(scene, baseTimes, H, W));
    const got = { color: r.color, background: r.background, shape: r.shape, motion: r.motion };
    if (JSON.stringify(got) !== JSON.stringify({ color: scene.color, background: scene.background, shape: scene.shape, motion: scene.motion }) || r.maxObjects !== 1) wrong.push(`${JSON.stringify(scene)} → ${JSON.stringify(got)} (${r.maxObjects} objects)`);
  }
  assert.equal(scenes.length, 23 + 15);
  assert.deepEqual(wrong, []);
});

test('noise and an empty frame are read as no colour/shape/motion, not as a guess', () => {
  let s = 1;
  const rand = () => ((s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32) * 255;
  const noise: Frame[] = baseTimes.map(() => ({ width: W, height: H, rgba: Uint8ClampedArray.from({ length: W * H * 4 }, (_, i) => (i % 4 === 3 ? 255 : rand())) }));
  const r = readVideo(noise);
  assert.deepEqual([r.color, r.shape, r.motion], [null, null, null]);
  const empty = readVideo(baseTimes.map(() => ({ width: W, height: H, rgba: new Uint8ClampedArray(W * H * 4).fill(255) })));
  assert.deepEqual([empty.color, empty.shape, empty.motion, empty.background], [null, null, null, 'white']);
  // A still object has no motion; a wrong direction is read as that direction.
  const scene: NanoScene = { color: 'red', shape: 'square', motion: 'left', background: 'black' };
  const still = renderScene(scene, baseTimes.map(() => 0), H, W);
  assert.equal(readVideo(still).motion, null);
  assert.equal(readVideo(renderScene(scene, [...baseTimes].reverse(), H, W)).motion, 'right');
});

test('interpolation: smooth monotonic 61 frames pass; a jump back, a freeze-and-jump or a new object fail', () => {
  const scene: NanoScene = { color: 'blue', shape: 'circle', motion: 'up', background: 'gradient' };
  const good = renderScene(scene, interpTimes, H, W);
  const r = readVideo(good);
  assert.equal(r.motion, 'up');
  assert.deepEqual(checkInterpolation(r, good[0]!, 1), { monotonic: true, smooth: true, noNewObjects: true });

  const back = renderScene(scene, interpTimes.map((t, j) => (j === 30 ? t - 2 : t)), H, W);
  assert.equal(checkInterpolation(readVideo(back), back[0]!, 1).monotonic, false);
  // Frames held, then one big step: monotonic, not smooth.
  const jumpy = renderScene(scene, interpTimes.map((t) => (t < 12 ? Math.min(t, 3) : t)), H, W);
  const cj = checkInterpolation(readVideo(jumpy), jumpy[0]!, 1);
  assert.deepEqual([cj.monotonic, cj.smooth], [true, false]);
  const growing = renderScene({ ...scene, motion: 'growing' }, interpTimes, H, W);
  assert.deepEqual(checkInterpolation(readVideo(growing), growing[0]!, 1), { monotonic: true, smooth: true, noNewObjects: true });

  const twice = renderScene(scene, interpTimes, H, W, placement(scene), (t) => (t > 8 ? { r0: 0.08, start: [0.3, 0.3], end: [0.3, 0.3], color: 'yellow' } : null));
  assert.equal(checkInterpolation(readVideo(twice), twice[0]!, 1).noNewObjects, false);
});

test('super-resolution: a true ×4 rendering passes; bicubic, blur, a shift or another colour fail', () => {
  const scene: NanoScene = { color: 'green', shape: 'triangle', motion: 'right', background: 'gray' };
  const times = baseTimes.slice(0, 8);
  const lo = renderScene(scene, times, 20, 32);
  const hi = renderScene(scene, times, 80, 128);
  assert.deepEqual(checkSuperResolution(lo, hi), { colorKept: true, positionKept: true, sharperThanBicubic: true });

  const bic = lo.map((f) => bicubicUpsample(f, 4));
  assert.equal(checkSuperResolution(lo, bic).sharperThanBicubic, false);
  const blurred = bicubicUpsample(renderScene(scene, times, 10, 16).map((f) => bicubicUpsample(f, 2))[0]!, 1);
  assert.equal(checkSuperResolution([lo[0]!], [blurred]).sharperThanBicubic, false);
  const p = placement(scene);
  const shifted = renderScene(scene, times, 80, 128, { ...p, start: [p.start[0], p.start[1] + 0.15], end: [p.end[0], p.end[1] + 0.15] });
  const cs = checkSuperResolution(lo, shifted);
  assert.deepEqual([cs.colorKept, cs.positionKept], [true, false]);
  assert.equal(checkSuperResolution(lo, renderScene({ ...scene, color: 'yellow' }, times, 80, 128)).colorKept, false);
});
