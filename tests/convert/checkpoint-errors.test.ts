// Wrong checkpoints stop with a typed error naming the key (strict loading, like PyTorch's).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { CheckpointError } from '../../src/convert/errors.ts';
import { DEFAULT_MAX_TENSOR_BYTES } from '../../src/convert/graphs/nn.ts';
import { Params } from '../../src/convert/graphs/params.ts';
import { buildBaseUNet, type UNet3DConfig } from '../../src/convert/graphs/unet3d.ts';
import { GraphBuilder } from '../../src/convert/onnx/graph.ts';
import { tensorFromArray, type StateDict } from '../../src/convert/tensor.ts';
import { fixtureDir } from '../helpers/fixtures.ts';
import { readFileSync } from 'node:fs';
import { readSafetensorsFile } from '../../src/convert/cli/node-io.ts';

const cfg = () => JSON.parse(readFileSync(join(fixtureDir('base_unet'), 'config.json'), 'utf8')) as UNet3DConfig;
const weights = () => readSafetensorsFile(join(fixtureDir('base_unet'), 'weights.safetensors'));

function build(sd: StateDict): void {
  const p = new Params(sd, 'lavie_base.pt');
  buildBaseUNet({ g: new GraphBuilder('u'), p, precision: 'fp32', maxTensorBytes: DEFAULT_MAX_TENSOR_BYTES }, cfg(), { batch: 2, frames: 4, height: 8, width: 16 });
  p.assertAllUsed();
}

const expectCode = (code: string, key: string) => (e: unknown) => e instanceof CheckpointError && e.reason === code && e.key === key && e.message.includes(key) && e.message.includes('lavie_base.pt');

test('the unmodified fixture checkpoint builds', () => build(weights()));

test('a missing key is named', () => {
  const sd = weights();
  sd.delete('mid_block.resnets.0.conv1.weight');
  assert.throws(() => build(sd), expectCode('missing-key', 'mid_block.resnets.0.conv1.weight'));
});

test('an unexpected key is named', () => {
  const sd = weights();
  sd.set('extra.weight', tensorFromArray(new Float32Array(3), [3]));
  assert.throws(() => build(sd), expectCode('unexpected-key', 'extra.weight'));
});

test('a wrong shape is named', () => {
  const sd = weights();
  sd.set('conv_in.weight', tensorFromArray(new Float32Array(32 * 8 * 9), [32, 8, 3, 3]));
  assert.throws(() => build(sd), expectCode('wrong-shape', 'conv_in.weight'));
});

test('RoPE frequencies that are not the constant are refused', () => {
  const sd = weights();
  const k = [...sd.keys()].find((x) => x.endsWith('rotary_emb.freqs'))!;
  sd.set(k, tensorFromArray(new Float32Array(16).fill(0.5), [16]));
  assert.throws(() => build(sd), (e: unknown) => e instanceof CheckpointError && e.key === k);
});
