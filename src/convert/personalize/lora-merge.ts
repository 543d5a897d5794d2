// Merge LoRAs into LaVie's weights: W' = W + Σ m·(α/r)·(up @ down), per changed weight, in float64
// and rounded to float32 once (the fixtures' rule). Linear: up [out,r] @ down [r,in]. 1×1 conv: the
// same on the squeezed kernels. k×k conv (LoCon): down [r,in,k,k] flattened to [r,in·k·k], up
// [out,r,1,1] → [out,in,k,k] — equal to kohya's conv2d formulation. Shapes and values are checked
// before anything is written; the merged tensors are computed lazily when the pack writer reads them.
import { CheckpointError } from '../errors.ts';
import { numel, type Shape, type StateDict, type TensorRef } from '../tensor.ts';
import { readLora, unmatchedHint, type LoraFile, type LoraModule, type LoraTarget, type LoraTargets } from './lora-file.ts';
import { assertFinite, familyOfWidth } from './checks.ts';

export interface LoraInput {
  file: string;
  sd: StateDict;
  /** The LoRA's strength m (1 = as trained). */
  multiplier: number;
}

export interface LoraReport {
  file: string;
  format: LoraFile['format'];
  multiplier: number;
  /** Weights changed in the UNet / the text encoder. */
  unet: number;
  text: number;
  /** Modules skipped because they match no spatial layer (only with unmatched: 'skip'). */
  skipped: string[];
}

export interface LoraMergeOptions {
  /** 'error' (default): refuse a LoRA with modules that map nowhere. 'skip': drop them and report. */
  unmatched?: 'error' | 'skip';
}

interface Delta { up: Float32Array; down: Float32Array; out: number; rank: number; scale: number }

/** Check one module against the weight it changes; returns the flattened factors. */
function prepare(m: LoraModule, w: TensorRef, file: string, multiplier: number): Delta {
  const where = { file, key: m.name };
  const d = m.down.shape;
  const u = m.up.shape;
  const shape = w.shape;
  const bad = (why: string) => new CheckpointError('wrong-shape', `${file}: LoRA module "${m.name}" does not fit LaVie's ${m.key} [${shape}]: ${why}`, where);
  if (d.length !== 2 && d.length !== 4) throw bad(`down has shape [${d}]`);
  if (u.length !== 2 && u.length !== 4) throw bad(`up has shape [${u}]`);
  const rank = d[0]!;
  if (u[1] !== rank || rank === 0) throw bad(`rank of down [${d}] and up [${u}] differ`);
  if (u.length === 4 && (u[2] !== 1 || u[3] !== 1)) throw bad(`up has a ${u[2]}×${u[3]} kernel (only 1×1 up kernels merge as up·down)`);
  const out = shape[0]!;
  const inF = shape[1]!;
  if (d[1] !== inF) {
    const family = m.target === 'unet' && /attn2\.to_[kv]\.weight$/.test(m.key) ? familyOfWidth(d[1]!) : m.target === 'text' ? familyOfWidth(d[1]!, 'text') : undefined;
    if (family) throw new CheckpointError('wrong-base-model', `${file}: "${m.name}" reads ${d[1]} features where SD-1.x layers read ${inF} — this is a LoRA for ${family}, not SD-1.x`, where);
    throw bad(`it reads ${d[1]} input features, the layer has ${inF}`);
  }
  if (u[0] !== out) throw bad(`it writes ${u[0]} output features, the layer has ${out}`);
  if (numel(d) / rank !== numel(shape) / out) throw bad(`down [${d}] does not match the kernel`);
  const alpha = m.alpha ? m.alpha.read()[0]! : rank;
  const down = m.down.read();
  const up = m.up.read();
  assertFinite(down, file, `${m.name} (down)`);
  assertFinite(up, file, `${m.name} (up)`);
  if (!Number.isFinite(alpha)) throw new CheckpointError('non-finite', `${file}: alpha of "${m.name}" is ${alpha}`, where);
  return { up, down, out, rank, scale: multiplier * (alpha / rank) };
}

/** W (float32) + Σ deltas, accumulated in float64 and rounded once. */
export function mergeDeltas(w: Float32Array, shape: Shape, deltas: readonly Delta[]): Float32Array {
  const acc = Float64Array.from(w);
  const out = shape[0]!;
  const cols = w.length / out;
  for (const d of deltas) {
    for (let o = 0; o < out; o++) {
      const row = o * cols;
      for (let j = 0; j < d.rank; j++) {
        const a = d.scale * d.up[o * d.rank + j]!;
        if (a === 0) continue;
        const dr = j * cols;
        for (let k = 0; k < cols; k++) acc[row + k] += a * d.down[dr + k]!;
      }
    }
  }
  return Float32Array.from(acc);
}

/**
 * Apply LoRAs to the UNet (and text encoder) state dicts. Returns new state dicts sharing every
 * unchanged tensor with the input; the inputs are never modified.
 */
export function applyLoras(
  targets: LoraTargets & { unet: StateDict; text?: StateDict },
  loras: readonly LoraInput[],
  opts: LoraMergeOptions = {},
): { unet: StateDict; text?: StateDict; reports: LoraReport[]; changed: Set<string> } {
  const perKey: Record<LoraTarget, Map<string, Delta[]>> = { unet: new Map(), text: new Map() };
  const reports: LoraReport[] = [];
  for (const l of loras) {
    if (!Number.isFinite(l.multiplier)) throw new CheckpointError('non-finite', `${l.file}: multiplier ${l.multiplier} is not a number`, { file: l.file });
    const parsed = readLora(l.sd, l.file, { unetKeys: targets.unet.keys(), unetConfig: targets.unetConfig, textKeys: targets.text?.keys() });
    if (parsed.unmatched.length && opts.unmatched !== 'skip') {
      const shown = parsed.unmatched.slice(0, 5).map((n) => `"${n}"`).join(', ');
      throw new CheckpointError('unmatched-key', `${l.file}: ${parsed.unmatched.length} LoRA module(s) match no SD-1.x spatial layer of LaVie: ${shown}${parsed.unmatched.length > 5 ? ', …' : ''}${unmatchedHint(parsed.unmatched)}`, { file: l.file, key: parsed.unmatched[0], keys: parsed.unmatched });
    }
    if (!parsed.modules.length) throw new CheckpointError('unmatched-key', `${l.file}: none of its ${parsed.unmatched.length} module(s) match an SD-1.x spatial layer of LaVie${unmatchedHint(parsed.unmatched)}`, { file: l.file, keys: parsed.unmatched });
    const report: LoraReport = { file: l.file, format: parsed.format, multiplier: l.multiplier, unet: 0, text: 0, skipped: parsed.unmatched };
    for (const m of parsed.modules) {
      const sd = m.target === 'unet' ? targets.unet : targets.text!;
      const delta = prepare(m, sd.get(m.key)!, l.file, l.multiplier);
      const list = perKey[m.target].get(m.key) ?? [];
      if (!list.length) report[m.target]++;
      list.push(delta);
      perKey[m.target].set(m.key, list);
    }
    reports.push(report);
  }
  const changed = new Set<string>();
  const merged = (sd: StateDict, deltas: Map<string, Delta[]>, prefix: string): StateDict => {
    const out: StateDict = new Map(sd);
    for (const [key, list] of deltas) {
      const w = sd.get(key)!;
      changed.add(`${prefix}${key}`);
      out.set(key, { dtype: 'float32', shape: w.shape, read: () => mergeDeltas(w.read(), w.shape, list) });
    }
    return out;
  };
  return {
    unet: merged(targets.unet, perKey.unet, 'unet:'),
    ...(targets.text ? { text: merged(targets.text, perKey.text, 'text:') } : {}),
    reports,
    changed,
  };
}
