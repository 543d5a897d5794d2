// safetensors: u64-LE header length, JSON header {name: {dtype, shape, data_offsets}}, then data.
// The reader parses only the header and reads each tensor from its source when asked, so a
// multi-GB checkpoint never sits in memory whole. It enforces the format's layout rules as the
// reference implementation does: the header is a JSON object of sane length, each tensor's byte
// count is dtype × shape, and the tensors, in order of offsets, tile the data area exactly — no
// holes, no overlaps, nothing after the last one.
import { CheckpointError } from '../errors.ts';
import { DTYPE_BYTES, decodeFloats, numel, type DType, type StateDict } from '../tensor.ts';
import type { ByteSource } from './bytes.ts';
import type { ByteWriter } from './torch-writer.ts';

const ST_DTYPES: Record<string, DType> = {
  F32: 'float32', F16: 'float16', BF16: 'bfloat16', F64: 'float64', I64: 'int64', I32: 'int32', I8: 'int8', U8: 'uint8', BOOL: 'bool',
};
const ST_NAMES: Partial<Record<DType, string>> = Object.fromEntries(Object.entries(ST_DTYPES).map(([k, v]) => [v, k]));

/** Refuse headers larger than this: a real header is a few hundred KB even for a 1,000-tensor UNet. */
const MAX_HEADER_BYTES = 100 * 1024 * 1024;

export interface SafetensorsHeaderEntry { dtype: DType; shape: number[]; begin: number; end: number }

/** Parse and validate a safetensors header (pure; used by the file reader and by fuzz tests). */
export function parseSafetensorsHeader(prefix: Uint8Array, fileSize: number, file = '<buffer>'): { entries: Map<string, SafetensorsHeaderEntry>; dataStart: number; metadata: Record<string, string> } {
  if (fileSize < 8 || prefix.byteLength < 8) throw new CheckpointError('truncated', `${file}: too short to be a safetensors file`, { file });
  const dv = new DataView(prefix.buffer, prefix.byteOffset, prefix.byteLength);
  const headerLen = Number(dv.getBigUint64(0, true));
  if (headerLen > MAX_HEADER_BYTES || 8 + headerLen > fileSize) {
    throw new CheckpointError('bad-format', `${file}: header length ${headerLen} does not fit in a ${fileSize}-byte file`, { file });
  }
  if (prefix.byteLength < 8 + headerLen) throw new CheckpointError('truncated', `${file}: header is cut short`, { file });
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(prefix.subarray(8, 8 + headerLen)));
  } catch {
    throw new CheckpointError('bad-format', `${file}: header is not valid UTF-8 JSON`, { file });
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new CheckpointError('bad-format', `${file}: header is not a JSON object`, { file });
  const dataStart = 8 + headerLen;
  const dataBytes = fileSize - dataStart;
  const entries = new Map<string, SafetensorsHeaderEntry>();
  let metadata: Record<string, string> = {};
  for (const [name, raw] of Object.entries(json as Record<string, unknown>)) {
    if (name === '__metadata__') {
      metadata = (raw ?? {}) as Record<string, string>;
      continue;
    }
    const r = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    const dtype = typeof r?.dtype === 'string' ? ST_DTYPES[r.dtype] : undefined;
    if (!dtype) throw new CheckpointError('bad-format', `${file}: tensor "${name}" has unsupported dtype ${JSON.stringify(r?.dtype)}`, { file, key: name });
    const shape = r.shape;
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      throw new CheckpointError('bad-format', `${file}: tensor "${name}" has an invalid shape`, { file, key: name });
    }
    const offs = r.data_offsets;
    if (!Array.isArray(offs) || offs.length !== 2 || !offs.every((o) => Number.isSafeInteger(o) && o >= 0)) {
      throw new CheckpointError('bad-format', `${file}: tensor "${name}" has invalid data_offsets`, { file, key: name });
    }
    const [begin, end] = offs as [number, number];
    if (end < begin || end > dataBytes) throw new CheckpointError('truncated', `${file}: tensor "${name}" lies outside the file (offsets ${begin}..${end}, data ${dataBytes} bytes)`, { file, key: name });
    if (end - begin !== numel(shape as number[]) * DTYPE_BYTES[dtype]) {
      throw new CheckpointError('bad-format', `${file}: tensor "${name}" has ${end - begin} bytes for shape [${shape}] ${dtype}`, { file, key: name });
    }
    entries.set(name, { dtype, shape: shape as number[], begin, end });
  }
  checkLayout(entries, dataBytes, file);
  return { entries, dataStart, metadata };
}

/** In order of offsets, tensors must start where the previous one ended and end where the data area does. */
function checkLayout(entries: Map<string, SafetensorsHeaderEntry>, dataBytes: number, file: string): void {
  const sorted = [...entries].sort(([, a], [, b]) => a.begin - b.begin || a.end - b.end);
  let at = 0;
  let prev = '';
  for (const [name, e] of sorted) {
    if (e.begin !== at) {
      const what = e.begin < at ? `overlaps "${prev}" (bytes ${e.begin}..${at})` : `leaves a hole before it (bytes ${at}..${e.begin} belong to no tensor)`;
      throw new CheckpointError('bad-layout', `${file}: tensor "${name}" ${what}`, { file, key: name });
    }
    at = e.end;
    prev = name;
  }
  if (at !== dataBytes) throw new CheckpointError('bad-layout', `${file}: ${dataBytes - at} bytes after the last tensor belong to no tensor`, { file });
}

/** Open a safetensors file lazily. Tensors are read from the source when `read()` is called. */
export function readSafetensors(src: ByteSource, file: string): StateDict {
  const head = src.read(0, Math.min(src.size, 8));
  let headerLen = 0;
  if (head.byteLength === 8) headerLen = Number(new DataView(head.buffer, head.byteOffset, 8).getBigUint64(0, true));
  const prefix = src.read(0, Math.min(src.size, 8 + Math.min(headerLen, MAX_HEADER_BYTES)));
  const { entries, dataStart } = parseSafetensorsHeader(prefix, src.size, file);
  const sd: StateDict = new Map();
  for (const [name, e] of entries) {
    const readBytes = (): Uint8Array => {
      const b = src.read(dataStart + e.begin, e.end - e.begin);
      if (b.byteLength !== e.end - e.begin) throw new CheckpointError('truncated', `${file}: tensor "${name}" is cut short`, { file, key: name });
      return b;
    };
    sd.set(name, { dtype: e.dtype, shape: e.shape, read: () => decodeFloats(readBytes(), e.dtype), readBytes });
  }
  return sd;
}

export interface NamedArray { dtype: DType; shape: readonly number[]; data: Float32Array | Float64Array | BigInt64Array | Int32Array | Uint8Array | Int8Array | Uint16Array }

/** A tensor to write: its bytes are asked for once, when its turn comes (one tensor in memory at a time). */
export interface LazyTensor { dtype: DType; shape: readonly number[]; bytes(): Uint8Array }

/** The header bytes (length prefix + padded JSON) and tensor order of a safetensors file (widest dtype first, so every tensor is aligned). */
function safetensorsLayout(tensors: Record<string, { dtype: DType; shape: readonly number[] }>, metadata?: Record<string, string>): { head: Uint8Array; names: string[]; dataBytes: number } {
  const names = Object.keys(tensors).sort((a, b) => DTYPE_BYTES[tensors[b]!.dtype] - DTYPE_BYTES[tensors[a]!.dtype] || (a < b ? -1 : a > b ? 1 : 0));
  const header: Record<string, unknown> = {};
  if (metadata) header.__metadata__ = metadata;
  let off = 0;
  for (const n of names) {
    const t = tensors[n]!;
    const stName = ST_NAMES[t.dtype];
    if (!stName) throw new Error(`encodeSafetensors: unsupported dtype ${t.dtype}`);
    const bytes = numel(t.shape) * DTYPE_BYTES[t.dtype];
    header[n] = { dtype: stName, shape: t.shape, data_offsets: [off, off + bytes] };
    off += bytes;
  }
  let json = new TextEncoder().encode(JSON.stringify(header));
  const pad = (8 - (json.length % 8)) % 8;
  if (pad) json = new TextEncoder().encode(JSON.stringify(header) + ' '.repeat(pad));
  const head = new Uint8Array(8 + json.length);
  new DataView(head.buffer).setBigUint64(0, BigInt(json.length), true);
  head.set(json, 8);
  return { head, names, dataBytes: off };
}

/** Stream a safetensors file into `out`, one tensor in memory at a time; returns the byte count. */
export function streamSafetensors(out: ByteWriter, tensors: Record<string, LazyTensor>, metadata?: Record<string, string>): number {
  const { head, names, dataBytes } = safetensorsLayout(tensors, metadata);
  out.write(head);
  for (const n of names) {
    const t = tensors[n]!;
    const b = t.bytes();
    if (b.byteLength !== numel(t.shape) * DTYPE_BYTES[t.dtype]) throw new Error(`encodeSafetensors: ${n}: ${b.byteLength} bytes for [${t.shape}] ${t.dtype}`);
    out.write(b);
  }
  return head.byteLength + dataBytes;
}

/** Serialize in-memory tensors to safetensors bytes. */
export function encodeSafetensors(tensors: Record<string, NamedArray>, metadata?: Record<string, string>): Uint8Array {
  const { head, dataBytes } = safetensorsLayout(tensors, metadata);
  const out = new Uint8Array(head.byteLength + dataBytes);
  let p = 0;
  const lazy: Record<string, LazyTensor> = {};
  for (const [n, t] of Object.entries(tensors)) lazy[n] = { dtype: t.dtype, shape: t.shape, bytes: () => new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength) };
  streamSafetensors({ write: (c) => { out.set(c, p); p += c.byteLength; } }, lazy, metadata);
  return out;
}
