// One video per stage: frames in, an encoded file out. The worker encodes MP4 with WebCodecs and
// mediabunny (src/video); Node tests give the host sinks that only count.
import { LaVieError, type StageVideo, type VideoMeta } from '../src/protocol.ts';
import type { RgbaFrame } from '../src/engine/types.ts';
import { EncoderUnsupportedError, createMp4Writer, probeCodec, type Mp4Writer } from '../src/video/index.ts';

export interface EncodedVideo { video: Blob; meta: Pick<VideoMeta, 'frames' | 'width' | 'height' | 'fps' | 'codec' | 'mimeType'> }

export interface VideoSink {
  /** Frames added so far. */
  readonly frames: number;
  add(f: RgbaFrame): Promise<void>;
  finish(): Promise<EncodedVideo>;
  /** Drop an unfinished video (idempotent). */
  cancel(): Promise<void>;
}

/** Opens a stage's sink; rejects (EncoderUnsupportedError) when this browser cannot encode that video. */
export type VideoOutput = (video: StageVideo) => Promise<VideoSink>;

/** MP4 through WebCodecs: the codec is probed at open (before any GPU work), the encoder created at the first frame. */
export const mp4Output: VideoOutput = async (v) => {
  const codec = await probeCodec(v.width, v.height, v.fps);
  if (!codec) throw new EncoderUnsupportedError(`This browser cannot encode H.264, VP9 or AV1 video at ${v.width}×${v.height}.`);
  let w: Mp4Writer | null = null;
  return {
    get frames() {
      return w?.frames ?? 0;
    },
    async add(f) {
      if (f.width !== v.width || f.height !== v.height) throw new LaVieError('internal', `A ${f.width}×${f.height} frame arrived for a ${v.width}×${v.height} video.`);
      w ??= await createMp4Writer({ width: v.width, height: v.height, fps: v.fps, codec });
      await w.addFrame(f.rgba, f.index);
    },
    async finish() {
      if (!w) throw new LaVieError('internal', 'No frames to encode.');
      const video = await w.finish();
      return { video, meta: { frames: w.frames, width: w.width, height: w.height, fps: w.fps, codec: w.codecString, mimeType: w.mimeType } };
    },
    async cancel() {
      await w?.cancel().catch(() => undefined);
      w = null;
    },
  };
};
