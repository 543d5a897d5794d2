// H.264 level choice (src/video): pure arithmetic over ITU-T H.264 Table A-1, so it runs in Node.
// The encoding itself needs WebCodecs: e2e/video.spec.ts.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { avcCodecString } from '../../src/video/index.ts';

test('avcCodecString picks Baseline at a level that fits', () => {
  assert.equal(avcCodecString(512, 320, 8), 'avc1.42001f'); // 3.1
  assert.equal(avcCodecString(128, 64, 8), 'avc1.42001f');
  assert.equal(avcCodecString(1280, 720, 30), 'avc1.42001f'); // 3600 MBs × 30 = 108000 MB/s: exactly 3.1
  assert.equal(avcCodecString(1280, 720, 60), 'avc1.420020'); // 3.2
  assert.equal(avcCodecString(1920, 1080, 24), 'avc1.420028'); // 4.0
  assert.equal(avcCodecString(2048, 1280, 8), 'avc1.420032'); // LaVie VSR output: 10240 MBs → 5.0
  assert.equal(avcCodecString(8192, 8192, 8), null);
});
