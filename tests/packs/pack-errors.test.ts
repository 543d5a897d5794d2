// What the user is told when a pack cannot be opened: no pack at the address (404, or a web page
// where the manifest should be), offline with nothing stored, a damaged file named by its path.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PackInvalidError } from '../../src/packs/pack-source.ts';
import { openUrlPack } from '../../src/packs/sources/url.ts';
import { memoryStore } from '../../src/packs/storage/memory.ts';
import { ERRORS, toErrorInfo, type ErrorCode } from '../../src/protocol.ts';

const answer = (status: number, body: string, type: string) => (async () => new Response(body, { status, headers: { 'content-type': type } })) as typeof fetch;
const code = (c: ErrorCode) => (e: unknown) => toErrorInfo(e).code === c;

test('no pack at the address: HTTP 404, or an HTML page in place of manifest.json', async () => {
  await assert.rejects(openUrlPack('https://example.test/nothing/', { store: memoryStore(), fetch: answer(404, 'not found', 'text/plain') }), code('pack-not-found'));
  await assert.rejects(openUrlPack('https://example.test/app/', { store: memoryStore(), fetch: answer(200, '<!doctype html><title>app</title>', 'text/html; charset=utf-8') }), code('pack-not-found'));
  await assert.rejects(openUrlPack('not a url', { store: memoryStore() }), code('pack-not-found'));
  assert.match(ERRORS['pack-not-found'].message, /no model at this address/);
});

test('offline with nothing stored', async () => {
  const offline = (async () => { throw new TypeError('Failed to fetch'); }) as typeof fetch;
  await assert.rejects(openUrlPack('https://example.test/p/', { store: memoryStore(), fetch: offline }), code('offline'));
});

test('a damaged file is named in the error the app gets; a broken manifest names manifest.json', async () => {
  assert.equal(toErrorInfo(new PackInvalidError('unet.onnx_data: sha256 mismatch', 'unet.onnx_data')).file, 'unet.onnx_data');
  await assert.rejects(openUrlPack('https://example.test/p/', { store: memoryStore(), fetch: answer(200, '{"format": 99}', 'application/json') }), (e) => {
    const info = toErrorInfo(e);
    return info.code === 'pack-invalid' && info.file === 'manifest.json';
  });
});
