// What every stage of the cascade shares: shapes, cancellation, progress within a stage.
import type { Phase } from '../../protocol.ts';

export interface LatentShape {
  channels: number;
  frames: number;
  height: number;
  width: number;
}

/** Progress inside one stage; the engine adds the stage name and the elapsed time. */
export interface StageProgress { phase: Phase; step: number; total: number; etaMs?: number; window?: number; windows?: number; tile?: number; tiles?: number }

export class CancelledError extends Error {
  constructor() {
    super('Generation cancelled');
    this.name = 'CancelledError';
  }
}

export function throwIfAborted(signal: AbortSignal): void {
  if (signal.aborted) throw new CancelledError();
}
