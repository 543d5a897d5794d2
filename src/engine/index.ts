// Engine entry point used by the worker. (Filled in by the pipeline work; see src/engine/types.ts.)
import type { PackRef } from '../protocol.ts';
import type { GenerationEngine } from './types.ts';

export async function createEngine(_pack: PackRef): Promise<GenerationEngine> {
  throw new Error('engine not wired yet');
}
