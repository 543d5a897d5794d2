// Frames → MP4, in the browser (window or worker): WebCodecs encodes, mediabunny muxes.
//
// probeCodec picks the first codec this browser can encode at the given size (H.264 baseline at a
// level that fits, then VP9, then AV1 — all three are valid in MP4). createMp4Writer takes RGBA frames
// one at a time (back-pressure through the returned promise) and yields a fast-start MP4 Blob.
import { LaVieError } from '../protocol/errors.ts';
import {
  BufferTarget,
  Mp4OutputFormat,
  Output,
  QUALITY_HIGH,
  VideoSample,
  VideoSampleSource,
  canEncodeVideo,
  type Quality,
} from 'mediabunny';

export type VideoCodecName = 'avc' | 'vp9' | 'av1';

export interface CodecChoice {
  codec: VideoCodecName;
  /** Full WebCodecs codec string when we choose it ourselves (H.264); otherwise mediabunny builds one. */
  fullCodecString?: string;
}

export const MP4_MIME = 'video/mp4';

/** Thrown when no candidate codec can be encoded; carries the protocol's error code. */
export class EncoderUnsupportedError extends LaVieError {
  constructor(message: string) {
    super('encoder-unsupported', message);
  }
}

// H.264 levels (ITU-T H.264 Table A-1): max frame size and max decoding speed in macroblocks, and the
// max bitrate for Baseline/Main (kbit/s · 1000).
const AVC_LEVELS: readonly { level: number; maxFs: number; maxMbps: number; maxBr: number }[] = [
  { level: 0x1e, maxFs: 1620, maxMbps: 40500, maxBr: 10_000_000 }, // 3.0
  { level: 0x1f, maxFs: 3600, maxMbps: 108000, maxBr: 14_000_000 }, // 3.1
  { level: 0x20, maxFs: 5120, maxMbps: 216000, maxBr: 20_000_000 }, // 3.2
  { level: 0x28, maxFs: 8192, maxMbps: 245760, maxBr: 20_000_000 }, // 4.0
  { level: 0x2a, maxFs: 8704, maxMbps: 522240, maxBr: 50_000_000 }, // 4.2
  { level: 0x32, maxFs: 22080, maxMbps: 589824, maxBr: 135_000_000 }, // 5.0
  { level: 0x33, maxFs: 36864, maxMbps: 983040, maxBr: 240_000_000 }, // 5.1
  { level: 0x34, maxFs: 36864, maxMbps: 2073600, maxBr: 240_000_000 }, // 5.2
  { level: 0x3c, maxFs: 139264, maxMbps: 4177920, maxBr: 240_000_000 }, // 6.0
];

/**
 * `avc1.42 00 LL`: Baseline profile (decodable everywhere) at the lowest level that fits the frame
 * size, the macroblock rate and each dimension (≤ √(8·MaxFS) macroblocks). Level 3.1 = avc1.42001f.
 * Returns null when even level 6 is too small.
 */
export function avcCodecString(width: number, height: number, fps: number): string | null {
  const mbW = Math.ceil(width / 16);
  const mbH = Math.ceil(height / 16);
  const fs = mbW * mbH;
  const mbps = fs * Math.max(1, fps);
  // Never pick below 3.1: it is what every decoder handles and what small videos conventionally use.
  const fit = AVC_LEVELS.find((l) => l.level >= 0x1f && fs <= l.maxFs && mbps <= l.maxMbps && Math.max(mbW, mbH) <= Math.sqrt(8 * l.maxFs));
  return fit ? `avc1.4200${fit.level.toString(16).padStart(2, '0')}` : null;
}

/** For H.264 read profile/constraints/level from the avcC record (bytes 1–3); else trust the config. */
export function codecStringFromDecoderConfig(dc: VideoDecoderConfig): string {
  const d = dc.description;
  if (dc.codec.startsWith('avc1') && d && d.byteLength >= 4) {
    const b = ArrayBuffer.isView(d) ? new Uint8Array(d.buffer, d.byteOffset, d.byteLength) : new Uint8Array(d);
    if (b[0] === 1) return `avc1.${[b[1]!, b[2]!, b[3]!].map((x) => x.toString(16).padStart(2, '0')).join('')}`;
  }
  return dc.codec;
}

function candidates(width: number, height: number, fps: number): CodecChoice[] {
  const out: CodecChoice[] = [];
  const avc = avcCodecString(width, height, fps);
  if (avc) out.push({ codec: 'avc', fullCodecString: avc });
  out.push({ codec: 'vp9' }, { codec: 'av1' });
  return out;
}

function checkSize(width: number, height: number, fps: number): void {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) throw new RangeError(`video size must be positive integers, got ${width}×${height}`);
  if (!(fps > 0) || !Number.isFinite(fps)) throw new RangeError(`fps must be a positive number, got ${fps}`);
}

/** The first codec of H.264 → VP9 → AV1 this browser can encode at this size, or null. */
export async function probeCodec(width: number, height: number, fps: number, quality: Quality = QUALITY_HIGH): Promise<CodecChoice | null> {
  checkSize(width, height, fps);
  if (typeof VideoEncoder === 'undefined') return null;
  for (const c of candidates(width, height, fps)) {
    const ok = await canEncodeVideo(c.codec, { width, height, frameRate: fps, quality, ...(c.fullCodecString ? { fullCodecString: c.fullCodecString } : {}) }).catch(() => false);
    if (ok) return c;
  }
  return null;
}

export interface Mp4WriterOptions {
  width: number;
  height: number;
  fps: number;
  /** Skip probing (e.g. the caller already probed). */
  codec?: CodecChoice;
  quality?: Quality;
  /** Seconds between key frames (default 1: cheap seeking in short clips). */
  keyFrameInterval?: number;
}

export interface Mp4Writer {
  readonly width: number;
  readonly height: number;
  readonly fps: number;
  /** The codec family in use. */
  readonly codec: VideoCodecName;
  /**
   * The codec string of the track: what the encoder was configured with until finish(), then what the
   * file declares (from the encoder's own parameter sets — e.g. asked `avc1.42001f`, OpenH264 may write
   * Constrained Baseline at a lower level, `avc1.42c015`).
   */
  readonly codecString: string;
  /** `video/mp4`, with `; codecs="…"` once finished. */
  readonly mimeType: string;
  /** Frames added so far. */
  readonly frames: number;
  /** Encode one RGBA frame (width·height·4 bytes) shown at `index / fps` seconds. Await it: back-pressure. */
  addFrame(rgba: Uint8Array | Uint8ClampedArray, index: number): Promise<void>;
  /** Encode a frame the caller already has (e.g. from an OffscreenCanvas). The writer does not close it. */
  addVideoFrame(frame: VideoFrame, index: number): Promise<void>;
  /** Flush the encoder and return the whole file. */
  finish(): Promise<Blob>;
  /** Stop and release the encoder; the writer is unusable afterwards. */
  cancel(): Promise<void>;
}

export async function createMp4Writer(opts: Mp4WriterOptions): Promise<Mp4Writer> {
  const { width, height, fps } = opts;
  checkSize(width, height, fps);
  const quality = opts.quality ?? QUALITY_HIGH;
  const choice = opts.codec ?? (await probeCodec(width, height, fps, quality));
  if (!choice) throw new EncoderUnsupportedError(`This browser cannot encode H.264, VP9 or AV1 video at ${width}×${height}.`);

  let codecString = choice.fullCodecString ?? choice.codec;
  const source = new VideoSampleSource({
    codec: choice.codec,
    quality,
    keyFrameInterval: opts.keyFrameInterval ?? 1,
    ...(choice.fullCodecString ? { fullCodecString: choice.fullCodecString } : {}),
    onEncoderConfig: (config) => { codecString = config.codec; },
    // The decoder config the encoder emits is what the MP4 declares (avcC for H.264).
    onEncodedPacket: (_packet, meta) => {
      const dc = meta?.decoderConfig;
      if (dc) codecString = codecStringFromDecoderConfig(dc);
    },
  });
  const target = new BufferTarget();
  const output = new Output({ format: new Mp4OutputFormat({ fastStart: 'in-memory' }), target });
  output.addVideoTrack(source, { frameRate: fps });
  await output.start();

  const frameUs = 1e6 / fps;
  let mimeType = MP4_MIME;
  let frames = 0;
  let lastIndex = -1;
  let state: 'open' | 'finished' | 'cancelled' = 'open';

  const checkIndex = (index: number) => {
    if (state !== 'open') throw new Error(`Mp4Writer is ${state}`);
    if (!Number.isInteger(index) || index <= lastIndex) throw new RangeError(`frame index must be an integer above ${lastIndex}, got ${index}`);
  };
  const encode = async (frame: VideoFrame, index: number) => {
    // Timestamps in seconds; mediabunny maps them to the track timescale.
    const sample = new VideoSample(frame, { timestamp: index / fps, duration: 1 / fps });
    try {
      await source.add(sample);
    } finally {
      sample.close();
    }
    lastIndex = index;
    frames++;
  };

  return {
    width,
    height,
    fps,
    codec: choice.codec,
    get codecString() { return codecString; },
    get frames() { return frames; },
    get mimeType() { return mimeType; },
    async addFrame(rgba, index) {
      checkIndex(index);
      if (rgba.byteLength !== width * height * 4) throw new RangeError(`frame ${index}: expected ${width * height * 4} RGBA bytes (${width}×${height}), got ${rgba.byteLength}`);
      const frame = new VideoFrame(rgba as Uint8Array<ArrayBuffer>, {
        format: 'RGBA',
        codedWidth: width,
        codedHeight: height,
        timestamp: Math.round(index * frameUs),
        duration: Math.round(frameUs),
      });
      try {
        await encode(frame, index);
      } finally {
        frame.close();
      }
    },
    async addVideoFrame(frame, index) {
      checkIndex(index);
      if (frame.displayWidth !== width || frame.displayHeight !== height) throw new RangeError(`frame ${index}: expected ${width}×${height}, got ${frame.displayWidth}×${frame.displayHeight}`);
      const copy = frame.clone();
      try {
        await encode(copy, index);
      } finally {
        copy.close();
      }
    },
    async finish() {
      if (state !== 'open') throw new Error(`Mp4Writer is ${state}`);
      if (frames === 0) throw new Error('Mp4Writer.finish: no frames were added');
      state = 'finished';
      await output.finalize();
      mimeType = `${MP4_MIME}; codecs="${codecString}"`;
      const buffer = target.buffer;
      if (!buffer) throw new Error('mediabunny produced no output buffer');
      return new Blob([buffer], { type: MP4_MIME });
    },
    async cancel() {
      if (state !== 'open') return;
      state = 'cancelled';
      await output.cancel();
    },
  };
}
