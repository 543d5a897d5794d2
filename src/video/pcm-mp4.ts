// Frames → MP4 without WebCodecs (Node): our I_PCM H.264 encoder (h264-pcm.ts) and mediabunny's
// muxer, the same muxer and MP4 layout (fast start, one video track, frame i at i/fps) as the
// browser's createMp4Writer. What differs is only the H.264 payload: uncompressed macroblocks
// instead of the browser encoder's compressed ones, so files are far larger.
import { BufferTarget, EncodedPacket, EncodedVideoPacketSource, Mp4OutputFormat, Output } from 'mediabunny';
import { createPcmEncoder } from './h264-pcm.ts';

export interface PcmMp4Writer {
  readonly codecString: string;
  readonly frames: number;
  /** Add one RGBA frame shown at index / fps seconds (indices strictly increasing). */
  addFrame(rgba: Uint8Array | Uint8ClampedArray, index: number): Promise<void>;
  /** The whole MP4 file. */
  finish(): Promise<Uint8Array>;
}

export async function createPcmMp4Writer(o: { width: number; height: number; fps: number }): Promise<PcmMp4Writer> {
  if (!(o.fps > 0) || !Number.isFinite(o.fps)) throw new RangeError(`fps must be a positive number, got ${o.fps}`);
  const enc = createPcmEncoder(o.width, o.height, o.fps);
  const source = new EncodedVideoPacketSource('avc');
  const target = new BufferTarget();
  const output = new Output({ format: new Mp4OutputFormat({ fastStart: 'in-memory' }), target });
  output.addVideoTrack(source, { frameRate: o.fps });
  await output.start();
  let frames = 0;
  let last = -1;
  return {
    codecString: enc.codec,
    get frames() { return frames; },
    async addFrame(rgba, index) {
      if (!Number.isInteger(index) || index <= last) throw new RangeError(`frame index must be an integer above ${last}, got ${index}`);
      const packet = new EncodedPacket(enc.encode(rgba), 'key', index / o.fps, 1 / o.fps);
      await source.add(packet, frames === 0 ? { decoderConfig: { codec: enc.codec, codedWidth: o.width, codedHeight: o.height, description: enc.avcC } } : undefined);
      last = index;
      frames++;
    },
    async finish() {
      if (frames === 0) throw new Error('no frames were added');
      await output.finalize();
      if (!target.buffer) throw new Error('mediabunny produced no output buffer');
      return new Uint8Array(target.buffer);
    },
  };
}
