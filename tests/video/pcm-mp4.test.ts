// The Node MP4 path (generate CLI): our I_PCM H.264 encoder and mediabunny's muxer. Checks the
// container (demuxed by mediabunny: codec, size, frame count, fps), the samples (parsed back from
// the access units: equal to the input's BT.601 conversion), and, when ffmpeg is installed, that a
// real decoder plays it.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { createPcmEncoder, decodePcmAccessUnit, rgbToYuv601, yuv601ToRgb } from '../../src/video/h264-pcm.ts';
import { createPcmMp4Writer } from '../../src/video/pcm-mp4.ts';
import { demux } from '../helpers/mp4.ts';

/** A frame whose colour depends on x, y and the frame index (so frames differ and order shows). */
function frame(w: number, h: number, i: number): Uint8Array {
  const f = new Uint8Array(w * h * 4);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) f.set([(x * 255) / (w - 1), (y * 255) / (h - 1), (i * 37) % 256, 255], 4 * (y * w + x));
  return f;
}

test('I_PCM access units hold the frame: samples parse back to the BT.601 conversion of the input', () => {
  const w = 40, h = 24; // not multiples of 16: the SPS crops
  const enc = createPcmEncoder(w, h, 8);
  const rgba = frame(w, h, 3);
  const { y } = decodePcmAccessUnit(enc.encode(rgba), w, h);
  const W = 48; // padded to whole macroblocks
  for (const [px, py] of [[0, 0], [39, 23], [17, 9]] as const) {
    const i = 4 * (py * w + px);
    assert.ok(Math.abs(y[py * W + px]! - rgbToYuv601(rgba[i]!, rgba[i + 1]!, rgba[i + 2]!)[0]) <= 0.5, `luma at ${px},${py}`);
  }
  // A flat colour survives the round trip within rounding.
  const flat = new Uint8Array(w * h * 4).map((_, k) => [200, 30, 90, 255][k % 4]!);
  const d = decodePcmAccessUnit(enc.encode(flat), w, h);
  const back = yuv601ToRgb(d.y[5 * W + 5]!, d.cb[2 * (W / 2) + 2]!, d.cr[2 * (W / 2) + 2]!);
  for (let c = 0; c < 3; c++) assert.ok(Math.abs(back[c]! - [200, 30, 90][c]!) <= 2, `channel ${c}: ${back}`);
  assert.throws(() => createPcmEncoder(33, 32, 8), RangeError);
  assert.throws(() => enc.encode(new Uint8Array(10)), RangeError);
});

test('MP4: one H.264 track, every frame a key frame at index/fps, size and count as written', async () => {
  const w = 40, h = 24, fps = 8, n = 16;
  const writer = await createPcmMp4Writer({ width: w, height: h, fps });
  for (let i = 0; i < n; i++) await writer.addFrame(frame(w, h, i), i);
  await assert.rejects(writer.addFrame(frame(w, h, 0), 3), RangeError);
  const mp4 = await writer.finish();
  const m = await demux(mp4);
  assert.equal(m.mime, 'video/mp4; codecs="avc1.42c01f"');
  assert.deepEqual([m.width, m.height, m.packets.length, m.duration], [w, h, n, n / fps]);
  assert.deepEqual(m.packets.map((p) => p.timestamp), Array.from({ length: n }, (_, i) => i / fps));
  assert.ok(m.packets.every((p) => p.type === 'key'));
  // Frame order: the blue channel encodes the index (37 apart; chroma is averaged over 2×2 pixels).
  const blue = m.packets.map((p) => { const d = decodePcmAccessUnit(p.data, w, h); return yuv601ToRgb(d.y[0]!, d.cb[0]!, d.cr[0]!)[2]; });
  blue.forEach((b, i) => assert.ok(Math.abs(b - ((i * 37) % 256)) <= 8, `frame ${i}: blue ${b}`));

  const ffprobe = spawnSync('ffprobe', ['-version']);
  if (ffprobe.status !== 0) return; // ffmpeg not installed: the container and samples were checked above
  const file = join(mkdtempSync(join(tmpdir(), 'pcm-')), 'v.mp4');
  writeFileSync(file, mp4);
  const r = spawnSync('ffprobe', ['-v', 'error', '-count_frames', '-show_entries', 'stream=codec_name,profile,width,height,r_frame_rate,nb_read_frames', '-of', 'default=nw=1', file], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr, '');
  assert.match(r.stdout, /codec_name=h264\nprofile=Constrained Baseline\nwidth=40\nheight=24\nr_frame_rate=8\/1\nnb_read_frames=16/);
});
