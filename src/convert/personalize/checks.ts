// Checks shared by LoRA and checkpoint personalization: finite values, and naming the model family a
// mis-sized file was made for (by its text-conditioning width), so the error says what to do.
import { CheckpointError } from '../errors.ts';

export function assertFinite(x: Float32Array, file: string, what: string): void {
  for (let i = 0; i < x.length; i++) {
    if (!Number.isFinite(x[i]!)) throw new CheckpointError('non-finite', `${file}: ${what} holds ${x[i]} at element ${i}; the file is corrupt or was saved from a diverged run`, { file, key: what });
  }
}

/**
 * SD-1.x cross-attention reads CLIP ViT-L's 768 features; SD-2.x reads OpenCLIP's 1024, SDXL 2048
 * (its text encoders are 768 and 1280 wide). Returns the family for a width that is not SD-1.x's.
 */
export function familyOfWidth(width: number, where: 'cross-attention' | 'text' = 'cross-attention'): string | undefined {
  if (where === 'text') return width === 1024 ? 'SD-2.x (OpenCLIP text encoder, 1024 wide)' : width === 1280 ? 'SDXL (second text encoder, 1280 wide)' : undefined;
  return width === 1024 ? 'SD-2.x (cross-attention width 1024)' : width === 2048 ? 'SDXL (cross-attention width 2048)' : undefined;
}
