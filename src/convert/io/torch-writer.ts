// Write torch.save-compatible zip checkpoints (pickle protocol 2 + stored zip entries), the format
// of lavie_base.pt & co. Used for synthetic official-format checkpoints (tests, benchmarks).
// Output goes to any sequential writer (a file in cli/node-io.ts, memory in tests).
import { DTYPE_BYTES, numel, type DType, type StateDict } from '../tensor.ts';

/** Takes bytes in order (a file, a hashing sink, memory). */
export interface ByteWriter { write(chunk: Uint8Array): void }

const STORAGE_NAME: Partial<Record<DType, string>> = {
  float32: 'FloatStorage', float16: 'HalfStorage', bfloat16: 'BFloat16Storage', float64: 'DoubleStorage',
  int64: 'LongStorage', int32: 'IntStorage', int8: 'CharStorage', uint8: 'ByteStorage', bool: 'BoolStorage',
};

/** Pickle opcode builder (protocol 2). */
export class PickleWriter {
  private parts: number[] = [0x80, 2];
  bytes(b: ArrayLike<number>): this { for (let i = 0; i < b.length; i++) this.parts.push(b[i]!); return this; }
  op(code: number): this { this.parts.push(code); return this; }
  mark(): this { return this.op(0x28); }
  str(s: string): this {
    const b = new TextEncoder().encode(s);
    this.op(0x58);
    this.u32(b.length);
    return this.bytes(b);
  }
  u32(n: number): this { return this.bytes([n & 255, (n >>> 8) & 255, (n >>> 16) & 255, (n >>> 24) & 255]); }
  int(n: number): this {
    if (n >= 0 && n < 256) return this.op(0x4b).bytes([n]);
    if (n >= -(2 ** 31) && n < 2 ** 31) return this.op(0x4a).u32(n >>> 0);
    let v = BigInt(n);
    const out: number[] = [];
    for (let i = 0; i < 8; i++) { out.push(Number(v & 255n)); v >>= 8n; }
    return this.op(0x8a).bytes([8, ...out]);
  }
  global(module: string, name: string): this { return this.op(0x63).bytes(new TextEncoder().encode(`${module}\n${name}\n`)); }
  tuple(items: (() => void)[]): this { this.mark(); items.forEach((f) => f()); return this.op(0x74); }
  finish(): Uint8Array { return Uint8Array.from([...this.parts, 0x2e]); }
}

export interface TorchWriteOptions {
  /** Wrap the state dict as {"ema": sd, "step": 5} (LaVie's release format). */
  wrap?: 'ema' | 'state_dict';
  /** Archive folder name inside the zip (torch uses the file's stem). */
  archive?: string;
}

function crc32(data: Uint8Array, crc = 0xffffffff): number {
  for (let i = 0; i < data.length; i++) {
    crc ^= data[i]!;
    for (let k = 0; k < 8; k++) crc = (crc >>> 1) ^ (0xedb88320 & -(crc & 1));
  }
  return crc;
}

/** Build the data.pkl bytes for a state dict whose tensor i lives in storage key String(i). */
export function statePickle(entries: { key: string; dtype: DType; shape: readonly number[] }[], opts: TorchWriteOptions = {}): Uint8Array {
  const w = new PickleWriter();
  if (opts.wrap) w.op(0x7d).mark().str(opts.wrap);
  w.global('collections', 'OrderedDict').op(0x29).op(0x52).mark();
  entries.forEach((e, i) => {
    const stride: number[] = [];
    let s = 1;
    for (let d = e.shape.length - 1; d >= 0; d--) { stride.unshift(s); s *= e.shape[d]!; }
    w.str(e.key);
    w.global('torch._utils', '_rebuild_tensor_v2');
    w.mark();
    w.tuple([() => w.str('storage'), () => w.global('torch', STORAGE_NAME[e.dtype]!), () => w.str(String(i)), () => w.str('cpu'), () => w.int(numel(e.shape))]).op(0x51);
    w.int(0);
    w.tuple(e.shape.map((d) => () => w.int(d)));
    w.tuple(stride.map((d) => () => w.int(d)));
    w.op(0x89);
    w.global('collections', 'OrderedDict').op(0x29).op(0x52);
    w.op(0x74).op(0x52);
  });
  w.op(0x75);
  if (opts.wrap) w.str('step').int(5).op(0x75);
  return w.finish();
}

/**
 * Stream a state dict to a torch.save zip (stored entries, ZIP64 records when large), reading one
 * tensor at a time. Returns the bytes written.
 */
export function writeTorchCheckpoint(out: ByteWriter, sd: StateDict, opts: TorchWriteOptions = {}): number {
  const keys = [...sd.keys()];
  const pkl = statePickle(keys.map((k) => ({ key: k, dtype: sd.get(k)!.dtype, shape: sd.get(k)!.shape })), opts);
  const storages = keys.map((k) => () => {
    const t = sd.get(k)!;
    const bytes = t.readBytes ? t.readBytes() : (() => { const f = t.read(); return new Uint8Array(f.buffer, f.byteOffset, f.byteLength); })();
    if (bytes.byteLength !== numel(t.shape) * DTYPE_BYTES[t.dtype]) throw new Error(`torch writer: ${k}: byte size mismatch`);
    return bytes;
  });
  return writeTorchZip(out, pkl, storages, opts.archive);
}

/** The zip container: data.pkl, byteorder, data/<i> for each storage (made on demand), version. */
export function writeTorchZip(out: ByteWriter, pkl: Uint8Array, storages: (() => Uint8Array)[], archive = 'archive'): number {
  const arch = archive;
  let pos = 0;
  const central: { name: Uint8Array; crc: number; size: number; offset: number }[] = [];
  const write = (b: Uint8Array) => { out.write(b); pos += b.byteLength; };
  const addEntry = (name: string, data: Uint8Array) => {
    const nb = new TextEncoder().encode(name);
    // torch aligns data to 64 bytes with a padding extra field.
    const base = pos + 30 + nb.length + 4 + 16;
    const pad = (64 - (base % 64)) % 64;
    const h = new DataView(new ArrayBuffer(30));
    const crc = (crc32(data) ^ 0xffffffff) >>> 0;
    h.setUint32(0, 0x04034b50, true); h.setUint16(4, 45, true); h.setUint16(8, 0, true);
    h.setUint32(14, crc, true); h.setUint32(18, 0xffffffff, true); h.setUint32(22, 0xffffffff, true);
    h.setUint16(26, nb.length, true); h.setUint16(28, 4 + 16 + 4 + pad, true);
    const offset = pos;
    write(new Uint8Array(h.buffer)); write(nb);
    const z = new DataView(new ArrayBuffer(20));
    z.setUint16(0, 1, true); z.setUint16(2, 16, true); z.setBigUint64(4, BigInt(data.byteLength), true); z.setBigUint64(12, BigInt(data.byteLength), true);
    write(new Uint8Array(z.buffer));
    const p = new DataView(new ArrayBuffer(4 + pad));
    p.setUint16(0, 0x4653, true); p.setUint16(2, pad, true);
    write(new Uint8Array(p.buffer));
    write(data);
    central.push({ name: nb, crc, size: data.byteLength, offset });
  };
  addEntry(`${arch}/data.pkl`, pkl);
  addEntry(`${arch}/byteorder`, new TextEncoder().encode('little'));
  storages.forEach((make, i) => addEntry(`${arch}/data/${i}`, make()));
  addEntry(`${arch}/version`, new TextEncoder().encode('3\n'));
  const cdStart = pos;
  for (const e of central) {
    const h = new DataView(new ArrayBuffer(46));
    h.setUint32(0, 0x02014b50, true); h.setUint16(4, 45, true); h.setUint16(6, 45, true);
    h.setUint32(16, e.crc, true); h.setUint32(20, 0xffffffff, true); h.setUint32(24, 0xffffffff, true);
    h.setUint16(28, e.name.length, true); h.setUint16(30, 28, true); h.setUint32(42, 0xffffffff, true);
    write(new Uint8Array(h.buffer)); write(e.name);
    const z = new DataView(new ArrayBuffer(28));
    z.setUint16(0, 1, true); z.setUint16(2, 24, true); z.setBigUint64(4, BigInt(e.size), true); z.setBigUint64(12, BigInt(e.size), true); z.setBigUint64(20, BigInt(e.offset), true);
    write(new Uint8Array(z.buffer));
  }
  const cdSize = pos - cdStart;
  const z64 = new DataView(new ArrayBuffer(56 + 20));
  const recOff = pos;
  z64.setUint32(0, 0x06064b50, true); z64.setBigUint64(4, 44n, true); z64.setUint16(12, 45, true); z64.setUint16(14, 45, true);
  z64.setBigUint64(24, BigInt(central.length), true); z64.setBigUint64(32, BigInt(central.length), true);
  z64.setBigUint64(40, BigInt(cdSize), true); z64.setBigUint64(48, BigInt(cdStart), true);
  z64.setUint32(56, 0x07064b50, true); z64.setBigUint64(64, BigInt(recOff), true); z64.setUint32(72, 1, true);
  write(new Uint8Array(z64.buffer));
  const e = new DataView(new ArrayBuffer(22));
  e.setUint32(0, 0x06054b50, true); e.setUint16(8, 0xffff, true); e.setUint16(10, 0xffff, true);
  e.setUint32(12, 0xffffffff, true); e.setUint32(16, 0xffffffff, true);
  write(new Uint8Array(e.buffer));
  return pos;
}
