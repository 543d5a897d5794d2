// Latent video → RGBA frames, one frame per VAE call: a whole-video batch would need F times the
// decoder's activations (at 320×512 one frame already peaks near 1 GiB in fp32).
import type { DeviceTensor } from '../runtime/device.ts';
import type { ModelSession, Runtime } from '../runtime/runtime.ts';
import type { RgbaFrame } from '../types.ts';
import { throwIfAborted, type LatentShape, type StageProgress } from './stage.ts';

export interface DecodeRequest {
  latent: LatentShape;
  /** VAE scaling factor (0.18215 for SD-1.4): the decoder sees x / factor. */
  scalingFactor: number;
  /** Image size produced by the VAE decoder. */
  image: { height: number; width: number };
  /** uint8 conversion: rounding (base, interpolation) or truncation (VSR). */
  rgba?: 'round' | 'truncate';
}

export async function decodeFrames(rt: Runtime, vaeDecoder: ModelSession, x: DeviceTensor, req: DecodeRequest, hooks: {
  signal: AbortSignal;
  onProgress(p: StageProgress): void;
  onFrame?(f: RgbaFrame): Promise<void> | void;
}): Promise<void> {
  const dev = rt.device;
  const { channels: c, frames: f, height: h, width: w } = req.latent;
  const zFrame = dev.alloc([1, c, h, w]);
  const img = dev.alloc([1, 3, req.image.height, req.image.width]);
  try {
    const start = performance.now();
    for (let fi = 0; fi < f; fi++) {
      throwIfAborted(hooks.signal);
      dev.extractFrame(zFrame, x, fi, 1 / req.scalingFactor);
      await vaeDecoder.run({ latent: dev.asOrt(zFrame) }, { decoded: img });
      const rgba = await dev.toRgba(img, req.rgba);
      await hooks.onFrame?.({ index: fi, width: req.image.width, height: req.image.height, rgba });
      const per = (performance.now() - start) / (fi + 1);
      hooks.onProgress({ phase: 'decode', step: fi + 1, total: f, etaMs: per * (f - fi - 1) });
    }
  } finally {
    dev.free(zFrame);
    dev.free(img);
  }
}
