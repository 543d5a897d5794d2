// Read where a model's initializers live, without decoding the graph: name, dims, data type, and
// either the byte range of the inline raw_data inside the .onnx file or the external-data location.
// Only what personalizing an installed pack needs (it rewrites tensors in place, same sizes), plus
// the integer attributes of the nodes that use them (MatMulNBits' K is not in its initializer).
// The counterpart of graph.ts's encoder; reads both packed and unpacked repeated ints.

export interface InitializerInfo {
  name: string;
  dims: number[];
  /** ONNX TensorProto data type (graph.ts ONNX_DTYPE). */
  dataType: number;
  /** Inline bytes: [offset, offset + length) of the .onnx file. */
  raw?: { offset: number; length: number };
  /** External bytes: `location` relative to the .onnx file's folder. */
  external?: { location: string; offset: number; length: number };
}

export interface NodeInfo { opType: string; inputs: string[]; ints: Map<string, number> }

export interface OnnxIndex { initializers: Map<string, InitializerInfo>; nodes: NodeInfo[] }

export class OnnxReadError extends Error {}

class Reader {
  constructor(readonly b: Uint8Array, public pos: number, readonly end: number) {}
  varint(): number {
    let v = 0;
    let mul = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new OnnxReadError('protobuf: varint runs past the end');
      const byte = this.b[this.pos++]!;
      v += (byte & 0x7f) * mul;
      if (!(byte & 0x80)) return v;
      mul *= 128;
    }
    throw new OnnxReadError('protobuf: varint too long');
  }
  /** Next field: number, wire type, and for length-delimited fields the body range. */
  next(): { field: number; wire: number; start: number; stop: number; value: number } | null {
    if (this.pos >= this.end) return null;
    const tag = this.varint();
    const field = Math.floor(tag / 8);
    const wire = tag & 7;
    let start = this.pos;
    let value = 0;
    if (wire === 0) value = this.varint();
    else if (wire === 1) this.pos += 8;
    else if (wire === 5) this.pos += 4;
    else if (wire === 2) {
      const n = this.varint();
      start = this.pos;
      this.pos += n;
    } else throw new OnnxReadError(`protobuf: wire type ${wire}`);
    if (this.pos > this.end) throw new OnnxReadError('protobuf: field runs past the end');
    return { field, wire, start, stop: this.pos, value };
  }
}

const text = (b: Uint8Array, s: number, e: number) => new TextDecoder().decode(b.subarray(s, e));

/** int64 varints as JS numbers (dims and attribute ints here are small and non-negative, or -1-like). */
function signed(v: number): number {
  return v >= 2 ** 63 ? v - 2 ** 64 : v;
}

function readTensor(b: Uint8Array, s: number, e: number): InitializerInfo {
  const r = new Reader(b, s, e);
  const t: InitializerInfo = { name: '', dims: [], dataType: 0 };
  const ext = new Map<string, string>();
  for (let f = r.next(); f; f = r.next()) {
    if (f.field === 1 && f.wire === 0) t.dims.push(signed(f.value));
    else if (f.field === 1 && f.wire === 2) {
      const p = new Reader(b, f.start, f.stop);
      while (p.pos < p.end) t.dims.push(signed(p.varint()));
    } else if (f.field === 2 && f.wire === 0) t.dataType = f.value;
    else if (f.field === 8 && f.wire === 2) t.name = text(b, f.start, f.stop);
    else if (f.field === 9 && f.wire === 2) t.raw = { offset: f.start, length: f.stop - f.start };
    else if (f.field === 13 && f.wire === 2) {
      const kv = new Reader(b, f.start, f.stop);
      let k = '';
      let v = '';
      for (let g = kv.next(); g; g = kv.next()) {
        if (g.field === 1 && g.wire === 2) k = text(b, g.start, g.stop);
        else if (g.field === 2 && g.wire === 2) v = text(b, g.start, g.stop);
      }
      ext.set(k, v);
    }
  }
  if (ext.has('location')) t.external = { location: ext.get('location')!, offset: Number(ext.get('offset') ?? 0), length: Number(ext.get('length') ?? -1) };
  return t;
}

function readNode(b: Uint8Array, s: number, e: number): NodeInfo {
  const r = new Reader(b, s, e);
  const n: NodeInfo = { opType: '', inputs: [], ints: new Map() };
  for (let f = r.next(); f; f = r.next()) {
    if (f.wire !== 2) continue;
    if (f.field === 1) n.inputs.push(text(b, f.start, f.stop));
    else if (f.field === 4) n.opType = text(b, f.start, f.stop);
    else if (f.field === 5) {
      const a = new Reader(b, f.start, f.stop);
      let name = '';
      let i: number | undefined;
      for (let g = a.next(); g; g = a.next()) {
        if (g.field === 1 && g.wire === 2) name = text(b, g.start, g.stop);
        else if (g.field === 3 && g.wire === 0) i = signed(g.value);
      }
      if (i !== undefined) n.ints.set(name, i);
    }
  }
  return n;
}

/** Index a ModelProto's initializers (and nodes' int attributes). */
export function readOnnxIndex(model: Uint8Array): OnnxIndex {
  const top = new Reader(model, 0, model.byteLength);
  const out: OnnxIndex = { initializers: new Map(), nodes: [] };
  let sawGraph = false;
  for (let f = top.next(); f; f = top.next()) {
    if (f.field !== 7 || f.wire !== 2) continue;
    sawGraph = true;
    const g = new Reader(model, f.start, f.stop);
    for (let h = g.next(); h; h = g.next()) {
      if (h.wire !== 2) continue;
      if (h.field === 5) {
        const t = readTensor(model, h.start, h.stop);
        out.initializers.set(t.name, t);
      } else if (h.field === 1) out.nodes.push(readNode(model, h.start, h.stop));
    }
  }
  if (!sawGraph) throw new OnnxReadError('not an ONNX model (no graph)');
  return out;
}
