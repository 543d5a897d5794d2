// Test-page entry (bundled by esbuild into an IIFE, global `Media`; never part of the app build):
// src/video's writer, plus an MP4 reader and frame comparisons used by the e2e specs.
import { ALL_FORMATS, BufferSource as MbBufferSource, Input, VideoSampleSink } from 'mediabunny';

export { avcCodecString, createMp4Writer, probeCodec } from '../../src/video/index.ts';

/** A smooth moving gradient with a moving bright square: easy to compress, easy to recognise. */
export function syntheticFrame(i: number, width: number, height: number): Uint8Array {
  const rgba = new Uint8Array(width * height * 4);
  const sq = Math.max(4, Math.floor(height / 4));
  const sx = Math.floor(((i * 0.06) % 1) * (width - sq));
  const sy = Math.floor(height / 2 - sq / 2);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const o = 4 * (y * width + x);
      const inSq = x >= sx && x < sx + sq && y >= sy && y < sy + sq;
      rgba[o] = inSq ? 240 : Math.round(40 + 170 * (((x / width) + i / 16) % 1));
      rgba[o + 1] = inSq ? 240 : Math.round(40 + 170 * (y / height));
      rgba[o + 2] = inSq ? 240 : Math.round(90 + 60 * Math.sin((x + y) / 23 + i / 3));
      rgba[o + 3] = 255;
    }
  }
  return rgba;
}

export interface DecodedVideo {
  mimeType: string;
  codec: string | null;
  width: number;
  height: number;
  duration: number;
  timestamps: number[];
  frames: Uint8ClampedArray[];
}

/** Demux + decode an MP4 (mediabunny Input/BufferSource/ALL_FORMATS), frames as RGBA via a 2D canvas. */
export async function decodeVideo(data: Blob | ArrayBuffer): Promise<DecodedVideo> {
  const buf = data instanceof Blob ? await data.arrayBuffer() : data;
  const input = new Input({ source: new MbBufferSource(buf), formats: ALL_FORMATS });
  const track = await input.getPrimaryVideoTrack();
  if (!track) throw new Error('no video track');
  const width = await track.getDisplayWidth();
  const height = await track.getDisplayHeight();
  const canvas = new OffscreenCanvas(width, height);
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  if (!ctx) throw new Error('no 2d context');
  const frames: Uint8ClampedArray[] = [];
  const timestamps: number[] = [];
  for await (const sample of new VideoSampleSink(track).samples()) {
    ctx.clearRect(0, 0, width, height);
    sample.draw(ctx, 0, 0);
    frames.push(ctx.getImageData(0, 0, width, height).data);
    timestamps.push(sample.timestamp);
    sample.close();
  }
  return { mimeType: await input.getMimeType(), codec: await track.getCodecParameterString(), width, height, duration: await input.computeDuration(), timestamps, frames };
}

/** Mean and max absolute difference over R, G, B; PSNR in dB. */
export function compareRgba(a: ArrayLike<number>, b: ArrayLike<number>): { meanAbs: number; maxAbs: number; psnr: number } {
  if (a.length !== b.length) throw new Error(`length ${a.length} ≠ ${b.length}`);
  let sum = 0;
  let sq = 0;
  let max = 0;
  let n = 0;
  for (let i = 0; i < a.length; i++) {
    if (i % 4 === 3) continue;
    const d = Math.abs(a[i]! - b[i]!);
    sum += d;
    sq += d * d;
    if (d > max) max = d;
    n++;
  }
  const mse = sq / n;
  return { meanAbs: sum / n, maxAbs: max, psnr: mse === 0 ? Infinity : 10 * Math.log10((255 * 255) / mse) };
}

export async function sha256(data: ArrayBufferView | ArrayBuffer | Blob): Promise<string> {
  const bytes = data instanceof Blob ? await data.arrayBuffer() : ArrayBuffer.isView(data) ? new Uint8Array(data.buffer as ArrayBuffer, data.byteOffset, data.byteLength) : data;
  const h = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
  return Array.from(h, (x) => x.toString(16).padStart(2, '0')).join('');
}

/** Summary of a decoded video the specs can ship back to Node (no pixel arrays). */
export async function summarize(v: DecodedVideo) {
  return {
    mimeType: v.mimeType,
    codec: v.codec,
    width: v.width,
    height: v.height,
    duration: v.duration,
    frameCount: v.frames.length,
    timestamps: v.timestamps,
    frameHashes: await Promise.all(v.frames.map((f) => sha256(f))),
    meanLevel: v.frames.map((f) => { let s = 0; for (let i = 0; i < f.length; i++) if (i % 4 !== 3) s += f[i]!; return s / (f.length * 0.75); }),
  };
}
