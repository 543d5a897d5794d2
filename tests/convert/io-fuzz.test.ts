// Fuzzing every parser that reads outside bytes: random mutations and truncations of valid
// inputs may only ever produce our typed errors — no other exception, no hang, and no allocation
// beyond what the input's own size allows. Fixed seeds and budgets keep this fast and repeatable.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { CheckpointError } from '../../src/convert/errors.ts';
import { unpickle } from '../../src/convert/io/pickle.ts';
import { encodeSafetensors, parseSafetensorsHeader } from '../../src/convert/io/safetensors.ts';
import { bufferSource } from '../../src/convert/io/bytes.ts';
import { readEntry, readZipEntries } from '../../src/convert/io/zip.ts';
import { statePickle } from '../../src/convert/io/torch-writer.ts';
import { ManifestError, parseManifest } from '../../src/packs/manifest.ts';
import type { TensorRef } from '../../src/convert/tensor.ts';
import { writeTorchCheckpointFile } from '../../src/convert/cli/node-io.ts';

const RUNS = 3000;
const SEED = 20261125;

/** Mutate: flip bytes, overwrite with extreme values, cut, or splice. */
const mutated = (base: Uint8Array) =>
  fc.tuple(fc.array(fc.tuple(fc.nat(base.length - 1), fc.integer({ min: 0, max: 255 })), { maxLength: 8 }), fc.option(fc.nat(base.length)), fc.boolean()).map(([flips, cut, ff]) => {
    const b = base.slice();
    for (const [i, v] of flips) b[i] = ff ? 0xff : v;
    return cut === null ? b : b.subarray(0, cut);
  });

function onlyTyped(fn: () => unknown, typed: (e: unknown) => boolean) {
  try {
    fn();
  } catch (e) {
    if (!typed(e)) throw new Error(`untyped failure: ${(e as Error)?.stack ?? e}`);
  }
}

test('fuzz: safetensors header parser', () => {
  const base = encodeSafetensors({ a: { dtype: 'float32', shape: [2, 3], data: new Float32Array(6) }, b: { dtype: 'int64', shape: [2], data: new BigInt64Array(2) } });
  fc.assert(fc.property(mutated(base), (b) => {
    onlyTyped(() => {
      const { entries, dataStart } = parseSafetensorsHeader(b, b.length);
      for (const e of entries.values()) assert.ok(dataStart + e.end <= b.length, 'declared tensor within the file');
    }, (e) => e instanceof CheckpointError);
  }), { numRuns: RUNS, seed: SEED });
});

test('fuzz: restricted unpickler', () => {
  const t: TensorRef = { dtype: 'float32', shape: [2, 2], read: () => new Float32Array(4) };
  const base = statePickle([{ key: 'w', dtype: t.dtype, shape: t.shape }, { key: 'b', dtype: 'float16', shape: [3] }], { wrap: 'ema' });
  // No hang: every opcode consumes at least one input byte, so the unpickler's work is bounded by
  // the (small) input; a non-terminating input would stop this test rather than pass it.
  fc.assert(fc.property(mutated(base), (b) => {
    onlyTyped(() => unpickle(b, 'fuzz.pkl'), (e) => e instanceof CheckpointError);
  }), { numRuns: RUNS, seed: SEED });
  // Random garbage, too.
  fc.assert(fc.property(fc.uint8Array({ maxLength: 256 }), (b) => onlyTyped(() => unpickle(b, 'junk.pkl'), (e) => e instanceof CheckpointError)), { numRuns: RUNS, seed: SEED });
});

test('fuzz: zip reader (central directory, ZIP64, entries)', () => {
  const p = join(mkdtempSync(join(tmpdir(), 'fuzz-')), 'x.pt');
  writeTorchCheckpointFile(p, new Map([['w', { dtype: 'float32', shape: [8], read: () => new Float32Array(8) }]]), { wrap: 'ema' });
  const base = new Uint8Array(readFileSync(p));
  fc.assert(fc.property(mutated(base), (b) => {
    onlyTyped(() => {
      const src = bufferSource(b);
      for (const e of readZipEntries(src, 'fuzz.zip').values()) {
        assert.ok(e.offset + e.size <= b.length, 'entries stay inside the file');
        if (e.method === 0) readEntry(src, e, 'fuzz.zip');
      }
    }, (e) => e instanceof CheckpointError);
  }), { numRuns: RUNS, seed: SEED });
});

test('fuzz: pack manifest validator', () => {
  const file = { path: 'unet/unet.onnx', bytes: 10, sha256: 'a'.repeat(64) };
  const graph = { graph: file, externalData: [], precision: 'fp32', inputs: [{ name: 'x', dtype: 'float32', shape: [1] }], outputs: [] };
  const good = {
    format: 'lavie-web-pack', version: 1, name: 'n', testWeights: true, createdBy: 'c',
    components: { tokenizer: { files: [file] }, textEncoder: { ...graph, folder: 'text_encoder', config: file, hiddenSize: 32 }, baseUnet: graph, vaeDecoder: graph },
    stages: { base: { frames: 16, height: 64, width: 128, fps: 8, latent: { channels: 4, frames: 16, height: 8, width: 16 }, textLength: 77, textDim: 32, vaeScalingFactor: 0.18215, sampler: { default: 'ddpm', steps: 50, guidanceScale: 7.5, numTrainTimesteps: 1000, betaStart: 1e-4, betaEnd: 0.02, betaSchedule: 'linear' } } },
  };
  parseManifest(good);
  const text = JSON.stringify(good);
  fc.assert(fc.property(mutated(new TextEncoder().encode(text)), (b) => {
    let json: unknown;
    try {
      json = JSON.parse(new TextDecoder().decode(b));
    } catch {
      return;
    }
    onlyTyped(() => parseManifest(json), (e) => e instanceof ManifestError);
  }), { numRuns: RUNS, seed: SEED });
  for (const path of ['../etc/passwd', '/abs', 'a/../../b', 'https://evil/x', 'a\\b', 'a//b', '']) {
    assert.throws(() => parseManifest({ ...good, components: { ...good.components, baseUnet: { ...graph, graph: { ...file, path } } } }), ManifestError, path);
  }
});
