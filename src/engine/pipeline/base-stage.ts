// Stage 1 of LaVie (LAVIE.md §8.1): text embeddings → denoised latent video → decoded frames.
import type { DeviceTensor } from '../runtime/device.ts';
import type { ModelSession, Runtime } from '../runtime/runtime.ts';
import type { PreviewImage, RgbaFrame } from '../types.ts';
import { decodeFrames, type DecodeRequest } from './decode.ts';
import { denoise, type DenoiseRequest } from './denoise.ts';
import type { StageProgress } from './stage.ts';

export { CancelledError, throwIfAborted, type LatentShape } from './stage.ts';

export interface BaseStageModels {
  /** inputs sample [2,C,F,h,w], timestep [1], encoder_hidden_states [2,L,D]; output out [2,C,F,h,w]. */
  unet: ModelSession;
  /** input latent [1,C,h,w]; output decoded [1,3,H,W]. */
  vaeDecoder: ModelSession;
}

export type BaseStageRequest = DenoiseRequest & DecodeRequest;

export interface BaseStageHooks {
  signal: AbortSignal;
  onProgress(p: StageProgress): void;
  onPreview?(p: PreviewImage): void;
  onFrame?(f: RgbaFrame): Promise<void> | void;
  /** Called with the final latents before decoding (tests compare them with the reference). */
  onLatents?(x: DeviceTensor): Promise<void> | void;
  onStep?(k: number, x: DeviceTensor): Promise<void> | void;
}

export async function runBaseStage(rt: Runtime, models: BaseStageModels, req: BaseStageRequest, hooks: BaseStageHooks): Promise<void> {
  const { channels: c, frames: f, height: h, width: w } = req.latent;
  const x = rt.device.alloc([1, c, f, h, w]);
  try {
    await denoise(rt, models.unet, x, req, hooks);
    await hooks.onLatents?.(x);
    await decodeFrames(rt, models.vaeDecoder, x, req, hooks);
  } finally {
    rt.device.free(x);
  }
}
