// Typed errors of the converter. Each names the file (and key) it is about, so the CLI can print
// one line a user can act on. All share the protocol code 'checkpoint-invalid'; `reason` says which
// rule the file broke.
import { LaVieError } from '../protocol/errors.ts';

export type CheckpointErrorCode =
  | 'bad-format' // not the file type we expected, or a malformed structure
  | 'truncated' // the file ends before the data it declares
  | 'bad-layout' // tensors overlap, leave holes, or do not cover the file's data area exactly
  | 'unsafe-pickle' // a pickle global outside the allow-list
  | 'missing-key' // the network needs a tensor the checkpoint lacks
  | 'unexpected-key' // the checkpoint has tensors the network does not use
  | 'wrong-shape' // a tensor with the wrong shape for the config
  | 'wrong-value' // a tensor that must hold a known constant (e.g. RoPE frequencies) does not
  | 'non-finite' // a tensor holds NaN or ±Inf
  | 'unknown-layout' // a personalization file that is neither a LoRA nor an SD checkpoint we can map
  | 'unmatched-key' // LoRA modules that name no SD-1.x spatial layer of LaVie (listed in `keys`)
  | 'wrong-base-model'; // a file made for another model family (SDXL, SD-2.x) than SD-1.x

export class CheckpointError extends LaVieError {
  readonly reason: CheckpointErrorCode;
  readonly file?: string;
  readonly key?: string;
  /** Every offending key, when there are several (e.g. unmatched LoRA modules). */
  readonly keys?: readonly string[];
  constructor(reason: CheckpointErrorCode, message: string, where: { file?: string; key?: string; keys?: readonly string[] } = {}) {
    super('checkpoint-invalid', message);
    this.reason = reason;
    this.file = where.file;
    this.key = where.key;
    this.keys = where.keys;
  }
}
