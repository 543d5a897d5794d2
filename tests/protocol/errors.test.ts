// The error catalogue (src/protocol/errors.ts): every code has user words and a next step; errors
// are classified by type and code, and survive the trip through postMessage.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CheckpointError } from '../../src/convert/errors.ts';
import { DeviceLostError } from '../../src/engine/runtime/runtime.ts';
import { ManifestError } from '../../src/packs/manifest.ts';
import { PackDownloadError, PackInvalidError } from '../../src/packs/pack-source.ts';
import { StorageFullError, storageError } from '../../src/packs/storage/pack-store.ts';
import { BadRequestError, CancelledError, ERRORS, ERROR_CODES, LaVieError, RemoteError, toErrorInfo } from '../../src/protocol.ts';
import { EncoderUnsupportedError } from '../../src/video/index.ts';

test('every code has a message and a next step in plain words', () => {
  assert.ok(ERROR_CODES.length >= 10);
  for (const c of ERROR_CODES) {
    const t = ERRORS[c];
    assert.ok(t.message.length > 5 && t.next.length > 10, c);
    // No internal jargon in what the user reads.
    assert.doesNotMatch(`${t.message} ${t.next}`, /\b(npm|ORT|onnx\w*|WebGPU|WGSL|tensors?|manifest|sha256)\b|chrome:\/\//i, c);
  }
  assert.equal(ERRORS['no-webgpu'].recoverable, false);
});

test('each layer\'s errors carry their code by type', () => {
  const cases: [Error, string][] = [
    [new PackDownloadError('x'), 'pack-download'],
    [new PackInvalidError('x'), 'pack-invalid'],
    [new ManifestError('f', 'x'), 'pack-invalid'],
    [new StorageFullError('x'), 'storage-full'],
    [new DeviceLostError(), 'device-lost'],
    [new EncoderUnsupportedError('x'), 'encoder-unsupported'],
    [new CheckpointError('truncated', 'x'), 'checkpoint-invalid'],
    [new CancelledError(), 'cancelled'],
    [new BadRequestError('x', 'seed'), 'bad-request'],
  ];
  for (const [e, code] of cases) {
    assert.ok(e instanceof LaVieError);
    assert.equal(toErrorInfo(e).code, code);
  }
  // A subclass renamed or minified keeps its code: names are never consulted.
  const e = new PackInvalidError('x');
  Object.defineProperty(e, 'name', { value: 'Whatever' });
  assert.equal(toErrorInfo(e).code, 'pack-invalid');
  assert.equal(toErrorInfo(Object.assign(new Error('boom'), { name: 'PackInvalidError' })).code, 'internal');
});

test('platform and runtime failures: by DOMException code, GPU error type, or (ORT only speaks text) message', () => {
  assert.equal(toErrorInfo(new DOMException('stop', 'AbortError')).code, 'cancelled');
  assert.equal(toErrorInfo(new DOMException('full', 'QuotaExceededError')).code, 'storage-full');
  assert.ok(storageError(new DOMException('full', 'QuotaExceededError'), 'save') instanceof StorageFullError);
  assert.equal(toErrorInfo(new Error('Failed to allocate 3 GB buffer')).code, 'gpu-oom');
  assert.equal(toErrorInfo('plain text').code, 'internal');
  assert.deepEqual(toErrorInfo(new Error('x')), { code: 'internal', message: 'x', recoverable: true });
});

test('an ErrorInfo crossing postMessage keeps its code; RemoteError rethrows it unchanged', () => {
  const info = new BadRequestError('Seed must be…', 'seed').toInfo();
  const cloned = structuredClone(info);
  assert.deepEqual(toErrorInfo(cloned), { code: 'bad-request', message: 'Seed must be…', recoverable: true });
  const r = new RemoteError(cloned);
  assert.equal(r.code, 'bad-request');
  assert.deepEqual(toErrorInfo(r), cloned);
  assert.equal(toErrorInfo({ code: 'not-a-code', message: 'm' }).code, 'internal');
});
