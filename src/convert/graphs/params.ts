// Checked access to a state dict while a network is built: every key a network reads must
// exist with the shape its config implies, and (like PyTorch's strict load_state_dict) every key
// in the checkpoint must be read by someone.
import { CheckpointError } from '../errors.ts';
import type { Shape, StateDict, TensorRef } from '../tensor.ts';

/** Makes a tensor for a key the network asks for (synthetic checkpoints); see synthetic.ts. */
export type Synthesizer = (key: string, shape: Shape) => TensorRef;

export class Params {
  private used = new Set<string>();

  /**
   * @param synth when given, a missing key is created (with the shape the network expects) instead
   *   of failing: building a network this way records exactly the official keys and shapes.
   */
  constructor(readonly sd: StateDict, readonly file = '<state dict>', private readonly synth?: Synthesizer) {}

  has(key: string): boolean {
    return this.sd.has(key);
  }

  get(key: string, shape?: Shape): TensorRef {
    let t = this.sd.get(key);
    if (!t && this.synth) {
      if (!shape) throw new Error(`synthetic tensor "${key}" needs an expected shape`);
      t = this.synth(key, shape);
      this.sd.set(key, t);
    }
    if (!t) throw new CheckpointError('missing-key', `${this.file}: missing tensor "${key}"${shape ? ` (expected shape [${shape}])` : ''}`, { file: this.file, key });
    if (shape && (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i]))) {
      throw new CheckpointError('wrong-shape', `${this.file}: tensor "${key}" has shape [${t.shape}], expected [${shape}]`, { file: this.file, key });
    }
    this.used.add(key);
    return t;
  }

  /** Mark keys as consumed without building anything from them (e.g. constant RoPE freqs). */
  consume(key: string): void {
    if (this.sd.has(key)) this.used.add(key);
  }

  unused(): string[] {
    return [...this.sd.keys()].filter((k) => !this.used.has(k));
  }

  /** Throw if the checkpoint holds tensors the network never read (strict loading). */
  assertAllUsed(): void {
    const extra = this.unused();
    if (extra.length) {
      throw new CheckpointError('unexpected-key', `${this.file}: ${extra.length} unexpected tensor(s), e.g. "${extra[0]}"`, { file: this.file, key: extra[0] });
    }
  }
}
