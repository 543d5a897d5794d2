// src/video in the real browser: RGBA frames → WebCodecs → mediabunny MP4, read back with mediabunny.
// (The codec-level arithmetic is a Node test: tests/video/codec.test.ts.)
import { expect, test } from '@playwright/test';
import { createHash } from 'node:crypto';
import { type MediaApi, injectMedia, openBlankPage } from './support/pages.ts';

/** The top-level boxes of an MP4 file, in order (type and payload). */
function mp4Boxes(bytes: Uint8Array): { type: string; payload: Uint8Array }[] {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const boxes: { type: string; payload: Uint8Array }[] = [];
  for (let o = 0; o + 8 <= bytes.length;) {
    const size = dv.getUint32(o);
    boxes.push({ type: String.fromCharCode(...bytes.subarray(o + 4, o + 8)), payload: bytes.subarray(o + 8, o + size) });
    if (size < 8) break;
    o += size;
  }
  return boxes;
}

test.describe('video encoding (src/video)', () => {
  test.beforeEach(async ({ page }) => {
    await openBlankPage(page);
    await injectMedia(page);
  });

  for (const [width, height] of [[128, 64], [512, 320]] as const) {
    test(`16 frames at ${width}×${height}, 8 fps → MP4 that decodes to the same pictures`, async ({ page }) => {
      const r = await page.evaluate(async ({ width, height }) => {
        const Media = (globalThis as unknown as { Media: MediaApi }).Media;
        const fps = 8;
        const probe = await Media.probeCodec(width, height, fps);
        const writer = await Media.createMp4Writer({ width, height, fps });
        const inputs: Uint8Array[] = [];
        for (let i = 0; i < 16; i++) {
          inputs.push(Media.syntheticFrame(i, width, height));
          await writer.addFrame(inputs[i]!, i);
        }
        const blob = await writer.finish();
        const v = await Media.decodeVideo(blob);
        const diffs = v.frames.map((f, i) => Media.compareRgba(f, inputs[i]!));
        const head = new Uint8Array(await blob.slice(0, 64).arrayBuffer());
        const ascii = String.fromCharCode(...head);
        return {
          probe,
          writerCodec: writer.codecString,
          writerMime: writer.mimeType,
          blobType: blob.type,
          bytes: blob.size,
          ftypAt: ascii.indexOf('ftyp'),
          decoded: { width: v.width, height: v.height, frames: v.frames.length, duration: v.duration, timestamps: v.timestamps, codec: v.codec, mimeType: v.mimeType },
          worstMean: Math.max(...diffs.map((d) => d.meanAbs)),
          worstPsnr: Math.min(...diffs.map((d) => d.psnr)),
          // Frame i must match input i better than its neighbours (order and timing kept).
          orderOk: v.frames.every((f, i) => i === 0 || Media.compareRgba(f, inputs[i]!).meanAbs < Media.compareRgba(f, inputs[i - 1]!).meanAbs),
        };
      }, { width, height });
      console.log(`${width}×${height}:`, JSON.stringify({ ...r, decoded: { ...r.decoded, timestamps: undefined } }));
      expect(r.probe?.codec).toBe('avc'); // this Chromium encodes H.264
      expect(r.probe?.fullCodecString).toBe('avc1.42001f');
      expect(r.blobType).toBe('video/mp4');
      expect(r.ftypAt).toBe(4);
      expect(r.decoded.mimeType).toContain('video/mp4');
      expect(r.decoded.codec).toMatch(/^avc1\.42/); // Baseline (the encoder picks its own level in the SPS)
      expect(r.writerCodec).toBe(r.decoded.codec);
      expect(r.writerMime).toBe(r.decoded.mimeType);
      expect(r.decoded.frames).toBe(16);
      expect(r.decoded.width).toBe(width);
      expect(r.decoded.height).toBe(height);
      expect(r.decoded.duration).toBeCloseTo(2, 2);
      r.decoded.timestamps.forEach((t, i) => expect(t).toBeCloseTo(i / 8, 3));
      expect(r.worstMean).toBeLessThan(4); // levels of 255, over R, G, B
      expect(r.worstPsnr).toBeGreaterThan(30);
      expect(r.orderOk).toBe(true);
    });
  }

  test('fast start: the moov box comes before mdat', async ({ page }) => {
    const order = await page.evaluate(async () => {
      const Media = (globalThis as unknown as { Media: MediaApi }).Media;
      const w = await Media.createMp4Writer({ width: 128, height: 64, fps: 8 });
      for (let i = 0; i < 16; i++) await w.addFrame(Media.syntheticFrame(i, 128, 64), i);
      return Array.from(new Uint8Array(await (await w.finish()).arrayBuffer()));
    }).then((file) => mp4Boxes(new Uint8Array(file)).map((b) => b.type));
    expect(order[0]).toBe('ftyp');
    expect(order.indexOf('moov')).toBeGreaterThan(0);
    expect(order.indexOf('moov')).toBeLessThan(order.indexOf('mdat'));
  });

  test('the same frames encode to the same decoded pictures', async ({ page }) => {
    const r = await page.evaluate(async () => {
      const Media = (globalThis as unknown as { Media: MediaApi }).Media;
      const once = async () => {
        const w = await Media.createMp4Writer({ width: 128, height: 64, fps: 8 });
        for (let i = 0; i < 16; i++) await w.addFrame(Media.syntheticFrame(i, 128, 64), i);
        const blob = await w.finish();
        return { file: Array.from(new Uint8Array(await blob.arrayBuffer())), frames: (await Media.summarize(await Media.decodeVideo(blob))).frameHashes };
      };
      return [await once(), await once()];
    }).then((runs) => runs.map(({ file, frames }) => {
      // The encoded samples (mdat), not the whole file: the muxer stamps mvhd/tkhd with the current
      // second, so two files made across a second boundary differ there (failed CI once).
      const mdat = mp4Boxes(new Uint8Array(file)).find((b) => b.type === 'mdat');
      return { samples: mdat ? createHash('sha256').update(mdat.payload).digest('hex') : null, frames };
    }));
    expect(r[1]!.frames).toEqual(r[0]!.frames);
    expect(r[0]!.samples, 'an mdat box').not.toBeNull();
    expect(r[1]!.samples, 'the encoder is deterministic here').toBe(r[0]!.samples);
  });

  for (const codec of ['vp9', 'av1'] as const) {
    test(`fallback codec ${codec} also makes a valid MP4`, async ({ page }) => {
      const r = await page.evaluate(async (codec) => {
        const Media = (globalThis as unknown as { Media: MediaApi }).Media;
        const w = await Media.createMp4Writer({ width: 128, height: 64, fps: 8, codec: { codec } });
        const inputs = Array.from({ length: 16 }, (_, i) => Media.syntheticFrame(i, 128, 64));
        for (let i = 0; i < 16; i++) await w.addFrame(inputs[i]!, i);
        const v = await Media.decodeVideo(await w.finish());
        return { codec: w.codecString, frames: v.frames.length, duration: v.duration, worstMean: Math.max(...v.frames.map((f, i) => Media.compareRgba(f, inputs[i]!).meanAbs)) };
      }, codec);
      console.log(codec, r);
      expect(r.codec.startsWith(codec === 'vp9' ? 'vp09.' : 'av01.')).toBe(true);
      expect(r.frames).toBe(16);
      expect(r.duration).toBeCloseTo(2, 2);
      expect(r.worstMean).toBeLessThan(6);
    });
  }

  test('the writer rejects wrong-sized frames, out-of-order indices and use after finish', async ({ page }) => {
    const errors = await page.evaluate(async () => {
      const Media = (globalThis as unknown as { Media: MediaApi }).Media;
      const w = await Media.createMp4Writer({ width: 128, height: 64, fps: 8 });
      const out: string[] = [];
      const attempt = async (f: () => Promise<unknown>) => { try { await f(); out.push('ok'); } catch (e) { out.push((e as Error).name); } };
      await attempt(() => w.addFrame(new Uint8Array(10), 0));
      await attempt(() => w.addFrame(Media.syntheticFrame(0, 128, 64), 0));
      await attempt(() => w.addFrame(Media.syntheticFrame(0, 128, 64), 0));
      await attempt(() => w.finish());
      await attempt(() => w.addFrame(Media.syntheticFrame(1, 128, 64), 1));
      return out;
    });
    expect(errors).toEqual(['RangeError', 'ok', 'RangeError', 'ok', 'Error']);
  });
});
