// What every stage of the cascade shares: shapes, cancellation, progress within a stage.
import { CancelledError } from '../../protocol/errors.ts';
import type { Phase } from '../../protocol.ts';

export { CancelledError };

export interface LatentShape {
  channels: number;
  frames: number;
  height: number;
  width: number;
}

/** Progress inside one stage; the engine adds the stage name and the elapsed time. */
export interface StageProgress { phase: Phase; step: number; total: number; etaMs?: number; window?: number; windows?: number; tile?: number; tiles?: number; segment?: number; segments?: number }

export function throwIfAborted(signal: AbortSignal): void {
  if (signal.aborted) throw new CancelledError('Generation cancelled.');
}
