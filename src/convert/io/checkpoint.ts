// Open a checkpoint as a lazy StateDict: `.safetensors`, or a torch.save zip (`.pt`, `.pth`,
// `.bin`, `.ckpt`) read through the restricted unpickler. The type is decided by the file's
// magic bytes, not its name. LaVie's loaders unwrap {"ema": …} (LAVIE.md §1.3); diffusers/SD
// files may use {"state_dict": …}; we do the same.
import { CheckpointError } from '../errors.ts';
import { DTYPE_BYTES, decodeFloats, numel, type DType, type StateDict, type TensorRef } from '../tensor.ts';
import type { ByteSource } from './bytes.ts';
import { unpickle, type PickleValue, type TensorDesc } from './pickle.ts';
import { readSafetensors } from './safetensors.ts';
import { readEntry, readZipEntries } from './zip.ts';

export type CheckpointKind = 'safetensors' | 'torch-zip' | 'torch-legacy' | 'unknown';

export function sniffCheckpoint(head: Uint8Array, size: number): CheckpointKind {
  if (head.length >= 4 && head[0] === 0x50 && head[1] === 0x4b && head[2] === 0x03 && head[3] === 0x04) return 'torch-zip';
  if (head.length >= 2 && head[0] === 0x80 && head[1]! >= 2 && head[1]! <= 5) return 'torch-legacy';
  if (head.length >= 9) {
    const n = Number(new DataView(head.buffer, head.byteOffset, 8).getBigUint64(0, true));
    if (n > 1 && n + 8 <= size && head[8] === 0x7b /* { */) return 'safetensors';
  }
  return 'unknown';
}

/** Pick the state dict out of a loaded top-level object the way LaVie / SD loaders do. */
export function unwrapStateDict(top: PickleValue, file: string): Map<string, TensorDesc> {
  if (!(top instanceof Map)) throw new CheckpointError('bad-format', `${file}: the checkpoint is not a dict`, { file });
  let sd: PickleValue = top;
  if (top.has('ema') && top.get('ema') instanceof Map) sd = top.get('ema')!;
  else if (top.has('state_dict') && top.get('state_dict') instanceof Map) sd = top.get('state_dict')!;
  const out = new Map<string, TensorDesc>();
  for (const [k, v] of sd as Map<PickleValue, PickleValue>) {
    if (typeof k !== 'string') continue;
    if (v && typeof v === 'object' && (v as TensorDesc).kind === 'tensor') out.set(k, v as TensorDesc);
  }
  if (!out.size) throw new CheckpointError('bad-format', `${file}: no tensors found (expected a state dict, or a dict with "ema" / "state_dict")`, { file });
  return out;
}

function isContiguous(size: number[], stride: number[]): boolean {
  let expect = 1;
  for (let i = size.length - 1; i >= 0; i--) {
    if (size[i] !== 1 && stride[i] !== expect) return false;
    expect *= size[i]!;
  }
  return true;
}

function openTorchZip(path: string, src: ByteSource): StateDict {
  const entries = readZipEntries(src, path);
  const pkl = [...entries.values()].find((e) => e.name.endsWith('/data.pkl') || e.name === 'data.pkl');
  if (!pkl) throw new CheckpointError('bad-format', `${path}: zip without data.pkl (not a torch.save file)`, { file: path });
  const prefix = pkl.name.slice(0, pkl.name.length - 'data.pkl'.length);
  const tensors = unwrapStateDict(unpickle(readEntry(src, pkl, path), path), path);
  const sd: StateDict = new Map();
  for (const [key, t] of tensors) {
    const dtype = t.storage.dtype as DType;
    if (!(dtype in DTYPE_BYTES)) throw new CheckpointError('bad-format', `${path}: tensor "${key}" has unsupported dtype ${t.storage.dtype}`, { file: path, key });
    const el = DTYPE_BYTES[dtype];
    const entry = entries.get(`${prefix}data/${t.storage.key}`);
    if (!entry) throw new CheckpointError('truncated', `${path}: storage ${t.storage.key} of "${key}" is missing from the archive`, { file: path, key });
    if (entry.size < t.storage.numel * el) throw new CheckpointError('truncated', `${path}: storage of "${key}" is cut short`, { file: path, key });
    const n = numel(t.size);
    let maxIndex = t.offset;
    for (let i = 0; i < t.size.length; i++) if (t.size[i]! > 0) maxIndex += (t.size[i]! - 1) * t.stride[i]!;
    if (n > 0 && (t.offset < 0 || maxIndex >= t.storage.numel || t.stride.some((s) => s < 0))) {
      throw new CheckpointError('bad-format', `${path}: tensor "${key}" views outside its storage`, { file: path, key });
    }
    const readBytes = (): Uint8Array => {
      if (isContiguous(t.size, t.stride)) return src.read(entry.offset + t.offset * el, n * el).slice();
      // A strided view: gather element by element from the whole storage.
      const all = src.read(entry.offset, t.storage.numel * el);
      const out = new Uint8Array(n * el);
      const idx = new Array(t.size.length).fill(0);
      for (let i = 0; i < n; i++) {
        let off = t.offset;
        for (let d = 0; d < idx.length; d++) off += idx[d]! * t.stride[d]!;
        out.set(all.subarray(off * el, off * el + el), i * el);
        for (let d = idx.length - 1; d >= 0; d--) {
          if (++idx[d] < t.size[d]!) break;
          idx[d] = 0;
        }
      }
      return out;
    };
    const ref: TensorRef = { dtype, shape: [...t.size], readBytes, read: () => decodeFloats(readBytes(), dtype) };
    sd.set(key, ref);
  }
  return sd;
}

/** Open `.safetensors` or a torch.save zip as a lazy state dict; `file` names it in errors. */
export function openCheckpoint(src: ByteSource, file: string): StateDict {
  const head = src.read(0, 16);
  switch (sniffCheckpoint(head, src.size)) {
    case 'safetensors':
      return readSafetensors(src, file);
    case 'torch-zip':
      return openTorchZip(file, src);
    case 'torch-legacy':
      throw new CheckpointError('bad-format', `${file}: legacy (pre-1.6, non-zip) torch file; re-save it with torch.save in a recent PyTorch or convert it to safetensors`, { file });
    default:
      throw new CheckpointError('bad-format', `${file}: not a checkpoint (neither a torch.save zip nor safetensors)`, { file });
  }
}
