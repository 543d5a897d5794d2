// FreeNoise's windowed temporal attention as a build option of the one base-UNet definition:
// window layout and weights as the official code (fixture READMEs), and at 16 frames the plain graph.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_MAX_TENSOR_BYTES } from '../../src/convert/graphs/nn.ts';
import { Params } from '../../src/convert/graphs/params.ts';
import { FREENOISE_WINDOWS, windowCoverage, windowStarts, windowWeights } from '../../src/engine/freenoise.ts';
import { buildBaseUNet, type UNet3DConfig } from '../../src/convert/graphs/unet3d.ts';
import { GraphBuilder } from '../../src/convert/onnx/graph.ts';
import { synthesizer } from '../../src/convert/synthetic.ts';
import { fixtureDir } from '../helpers/fixtures.ts';

test('windows: starts, triangular weights and per-frame sums as FreeNoise-LaVie (README of freenoise_transformer3d)', () => {
  assert.deepEqual(windowStarts(24, FREENOISE_WINDOWS), [0, 4, 8]);
  assert.deepEqual(windowStarts(26, FREENOISE_WINDOWS), [0, 4, 8]); // frames 24, 25 in no window
  assert.deepEqual(windowStarts(64, FREENOISE_WINDOWS), [0, 4, 8, 12, 16, 20, 24, 28, 32, 36, 40, 44, 48]);
  assert.deepEqual(windowStarts(16, FREENOISE_WINDOWS), [0]);
  assert.deepEqual([...windowWeights(16)], [1, 2, 3, 4, 5, 6, 7, 8, 8, 7, 6, 5, 4, 3, 2, 1]);
  assert.deepEqual([...windowCoverage(24, FREENOISE_WINDOWS)], [1, 2, 3, 4, 6, 8, 10, 12, 14, 15, 16, 17, 17, 16, 15, 14, 12, 10, 8, 6, 4, 3, 2, 1]);
  for (let k = 0; k <= 12; k++) assert.ok(windowCoverage(16 + 4 * k, FREENOISE_WINDOWS).every((c) => c > 0), `L = ${16 + 4 * k} covers every frame`);
});

const cfg = JSON.parse(readFileSync(join(fixtureDir('base_unet'), 'config.json'), 'utf8')) as UNet3DConfig;
function graph(frames: number, windows: boolean): GraphBuilder {
  const g = new GraphBuilder('u');
  buildBaseUNet({ g, p: new Params(new Map(), 'synthetic', synthesizer(0)), precision: 'fp32', maxTensorBytes: DEFAULT_MAX_TENSOR_BYTES }, cfg, { batch: 2, frames, height: 8, width: 16 }, windows ? FREENOISE_WINDOWS : undefined);
  return g;
}

test('base UNet with FreeNoise windows: 16 frames is node for node the plain graph; 24 frames adds windows, no parameters', () => {
  const plain = graph(16, false);
  const win16 = graph(16, true);
  assert.deepEqual(win16.nodes, plain.nodes);
  assert.deepEqual(win16.initializers.map((i) => [i.name, i.shape]), plain.initializers.map((i) => [i.name, i.shape]));
  const win24 = graph(24, true);
  assert.ok(win24.nodes.length > graph(24, false).nodes.length);
  assert.throws(() => graph(12, true), /fewer than one 16-frame temporal window/);
});
