// GraphBuilder: emits an ONNX graph with static shapes, inferring every intermediate's shape as
// it goes. Static shapes let us (a) prove browser memory bounds by analysis, not by running,
// and (b) give ORT-web fixed shapes (graph capture, no dynamic allocation).
import { DTYPE_BYTES, numel, type DType, type Shape, type TensorRef } from '../tensor.ts';
import { PbWriter } from './protobuf.ts';

export interface Value {
  readonly name: string;
  readonly dtype: DType;
  readonly shape: readonly number[];
}

/** Attribute values: integers → INT(S); wrap floats in `f()`/`fs()`; strings → STRING. */
export class FloatAttr {
  constructor(readonly v: number) {}
}
export class FloatsAttr {
  constructor(readonly v: readonly number[]) {}
}
export const f = (v: number): FloatAttr => new FloatAttr(v);
export const fs = (v: readonly number[]): FloatsAttr => new FloatsAttr(v);
export type AttrValue = number | readonly number[] | string | FloatAttr | FloatsAttr;

export interface NodeDef {
  opType: string;
  domain: string;
  name: string;
  inputs: string[];
  outputs: string[];
  attrs: Record<string, AttrValue>;
  /** Emitted inside `keepFp32`: an fp16-compute variant of the graph still runs this node in float32. */
  fp32?: true;
}

export interface Initializer {
  name: string;
  dtype: DType;
  shape: number[];
  byteLength: number;
  /** Little-endian bytes in `dtype`; called once at serialization. */
  bytes(): Uint8Array;
  /** Checkpoint key this came from (for the report), if any. */
  source?: string;
}

export const ONNX_DTYPE: Record<DType, number> = {
  float32: 1, uint8: 2, int8: 3, int32: 6, int64: 7, bool: 9, float16: 10, float64: 11, bfloat16: 16,
};

export interface TensorReportRow { name: string; dtype: DType; shape: number[]; bytes: number; kind: 'input' | 'initializer' | 'intermediate' | 'output' }

export class GraphBuilder {
  readonly nodes: NodeDef[] = [];
  readonly initializers: Initializer[] = [];
  readonly inputs: Value[] = [];
  readonly outputs: Value[] = [];
  /** Every value produced by a node, in emission order (for shape reports). */
  readonly produced: Value[] = [];
  private names = new Set<string>();
  private scopes: string[] = [];
  private counter = 0;
  private constCache = new Map<string, Value>();
  private fp32Depth = 0;
  readonly opsetImports: Record<string, number> = { '': 17 };

  constructor(readonly name: string) {}

  // ---- naming ---------------------------------------------------------------------------------

  scope<T>(s: string, fn: () => T): T {
    this.scopes.push(s);
    try {
      return fn();
    } finally {
      this.scopes.pop();
    }
  }

  /** A name not used yet in this graph, under the current scope; `reserve` claims it. */
  uniqueName(base: string, reserve = true): string {
    const prefix = this.scopes.length ? this.scopes.join('/') + '/' : '';
    let n = prefix + base;
    while (this.names.has(n)) n = `${prefix}${base}_${this.counter++}`;
    if (reserve) this.names.add(n);
    return n;
  }

  /**
   * Nodes emitted inside `fn` stay float32 in the fp16-compute variant (fp16-compute.ts): statistics
   * over many elements (GroupNorm) and arguments too large for fp16's resolution (sin of t·freq).
   */
  keepFp32<T>(fn: () => T): T {
    this.fp32Depth++;
    try {
      return fn();
    } finally {
      this.fp32Depth--;
    }
  }

  // ---- graph I/O and initializers ----------------------------------------------------------------

  input(name: string, dtype: DType, shape: Shape): Value {
    if (this.names.has(name)) throw new Error(`duplicate name ${name}`);
    this.names.add(name);
    const v = { name, dtype, shape: [...shape] };
    this.inputs.push(v);
    return v;
  }

  output(v: Value, name?: string): Value {
    if (name && name !== v.name) v = this.op('Identity', [v], {}, { name, shape: v.shape, dtype: v.dtype });
    this.outputs.push(v);
    return v;
  }

  addInitializer(init: Initializer): Value {
    if (this.names.has(init.name)) throw new Error(`duplicate initializer ${init.name}`);
    this.names.add(init.name);
    this.initializers.push(init);
    return { name: init.name, dtype: init.dtype, shape: init.shape };
  }

  /** A float32 initializer from a lazily read tensor. */
  weight(name: string, t: TensorRef, source?: string): Value {
    const shape = [...t.shape];
    return this.addInitializer({
      name, dtype: 'float32', shape, byteLength: numel(shape) * 4, source,
      bytes: () => {
        const d = t.read();
        return new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
      },
    });
  }

  /** A small constant (deduplicated by content). */
  constF32(data: ArrayLike<number>, shape: Shape, base = 'const'): Value {
    const arr = Float32Array.from(data);
    if (arr.length !== numel(shape)) throw new Error(`constF32: ${arr.length} values for [${shape}]`);
    const key = `f32:${shape.join(',')}:${arr.length <= 64 ? Array.from(arr).join(',') : `${this.counter}`}`;
    const hit = this.constCache.get(key);
    if (hit) return hit;
    const v = this.addInitializer({ name: this.uniqueName(base, false), dtype: 'float32', shape: [...shape], byteLength: arr.byteLength, bytes: () => new Uint8Array(arr.buffer) });
    if (arr.length <= 64) this.constCache.set(key, v);
    return v;
  }

  constI64(data: readonly (number | bigint)[], shape: Shape = [data.length], base = 'const_i64'): Value {
    const key = `i64:${shape.join(',')}:${data.join(',')}`;
    const hit = this.constCache.get(key);
    if (hit) return hit;
    const arr = BigInt64Array.from(data.map((x) => BigInt(x)));
    const v = this.addInitializer({ name: this.uniqueName(base, false), dtype: 'int64', shape: [...shape], byteLength: arr.byteLength, bytes: () => new Uint8Array(arr.buffer) });
    if (data.length <= 64) this.constCache.set(key, v);
    return v;
  }

  // ---- generic node ------------------------------------------------------------------------------

  /** Emit one node with one output of the given (already inferred) shape. */
  op(opType: string, inputs: (Value | null)[], attrs: Record<string, AttrValue>, out: { shape: Shape; dtype: DType; name?: string }, domain = ''): Value {
    return this.opMulti(opType, inputs, attrs, [out], domain)[0]!;
  }

  opMulti(opType: string, inputs: (Value | null)[], attrs: Record<string, AttrValue>, outs: { shape: Shape; dtype: DType; name?: string }[], domain = ''): Value[] {
    for (const s of outs) for (const d of s.shape) if (!Number.isInteger(d) || d < 0) throw new Error(`${opType}: bad inferred dim in [${s.shape}]`);
    const nodeName = this.uniqueName(opType);
    const values = outs.map((o) => {
      const name = o.name ?? this.uniqueName(`${opType}_out`);
      if (o.name) {
        if (this.names.has(o.name)) throw new Error(`duplicate name ${o.name}`);
        this.names.add(o.name);
      }
      const v: Value = { name, dtype: o.dtype, shape: [...o.shape] };
      this.produced.push(v);
      return v;
    });
    if (domain && !(domain in this.opsetImports)) this.opsetImports[domain] = 1;
    this.nodes.push({ opType, domain, name: nodeName, inputs: inputs.map((i) => (i ? i.name : '')), outputs: values.map((v) => v.name), attrs, ...(this.fp32Depth > 0 ? { fp32: true as const } : {}) });
    return values;
  }

  // ---- reports --------------------------------------------------------------------------------

  tensorReport(): TensorReportRow[] {
    const outNames = new Set(this.outputs.map((o) => o.name));
    const rows: TensorReportRow[] = [];
    for (const v of this.inputs) rows.push({ name: v.name, dtype: v.dtype, shape: [...v.shape], bytes: numel(v.shape) * DTYPE_BYTES[v.dtype], kind: 'input' });
    for (const i of this.initializers) rows.push({ name: i.name, dtype: i.dtype, shape: i.shape, bytes: i.byteLength, kind: 'initializer' });
    for (const v of this.produced) rows.push({ name: v.name, dtype: v.dtype, shape: [...v.shape], bytes: numel(v.shape) * DTYPE_BYTES[v.dtype], kind: outNames.has(v.name) ? 'output' : 'intermediate' });
    return rows;
  }

  /** The largest tensor any node produces (what must fit in one GPU buffer). */
  largestIntermediate(): TensorReportRow | undefined {
    let best: TensorReportRow | undefined;
    for (const r of this.tensorReport()) if (r.kind !== 'initializer' && r.kind !== 'input' && (!best || r.bytes > best.bytes)) best = r;
    return best;
  }

  /**
   * Peak bytes of activations alive at once when the nodes run in emission order and each tensor
   * is freed after its last reader: graph inputs live from the start, outputs to the end, Reshape
   * outputs share their input's buffer (as in ORT), and values computed from initializers alone
   * count as weights (ORT folds them). What a runtime needs beyond the weights, before its own
   * allocator overhead.
   */
  peakLiveBytes(): { bytes: number; atNode: string } {
    const constant = new Set(this.initializers.map((i) => i.name));
    const bytes = new Map<string, number>();
    for (const v of [...this.inputs, ...this.produced]) bytes.set(v.name, numel(v.shape) * DTYPE_BYTES[v.dtype]);
    const root = new Map<string, string>();
    const rootOf = (n: string) => root.get(n) ?? n;
    const lastUse = new Map<string, number>();
    this.nodes.forEach((n, i) => {
      if (n.inputs.every((x) => !x || constant.has(x))) {
        for (const o of n.outputs) constant.add(o);
        return;
      }
      if (n.opType === 'Reshape') root.set(n.outputs[0]!, rootOf(n.inputs[0]!));
      for (const x of n.inputs) if (x && !constant.has(x)) lastUse.set(rootOf(x), i);
    });
    for (const o of this.outputs) lastUse.set(rootOf(o.name), Infinity);
    let live = 0;
    for (const v of this.inputs) live += bytes.get(v.name)!;
    let peak = { bytes: live, atNode: '' };
    this.nodes.forEach((n, i) => {
      if (n.outputs.every((o) => constant.has(o))) return;
      for (const o of n.outputs) if (rootOf(o) === o) live += bytes.get(o)!;
      if (live > peak.bytes) peak = { bytes: live, atNode: n.name };
      const freed = new Set<string>();
      for (const x of [...n.inputs, ...n.outputs]) {
        const r = x && rootOf(x);
        if (r && !constant.has(r) && !freed.has(r) && (lastUse.get(r) ?? -1) <= i) {
          freed.add(r);
          live -= bytes.get(r)!;
        }
      }
    });
    return peak;
  }

  weightBytes(): number {
    return this.initializers.reduce((s, i) => s + i.byteLength, 0);
  }

  /**
   * Multiply-accumulate work of the graph as 2·MAC, split like LAVIE.md §9.3: Conv, MatMul against
   * a weight (Linear, incl. MatMulNBits), MatMul between activations (attention). Element-wise ops,
   * norms and softmax are not counted.
   */
  flops(): { conv: number; linear: number; attention: number; total: number } {
    const shapes = new Map<string, readonly number[]>();
    for (const v of [...this.inputs, ...this.produced]) shapes.set(v.name, v.shape);
    const weights = new Set(this.initializers.map((i) => i.name));
    // A MatMul's right operand is a weight when it comes from an initializer (possibly through a Cast/DequantizeLinear).
    const fromWeight = new Set<string>();
    for (const n of this.nodes) if ((n.opType === 'Cast' || n.opType === 'DequantizeLinear') && weights.has(n.inputs[0]!)) fromWeight.add(n.outputs[0]!);
    let conv = 0;
    let linear = 0;
    let attention = 0;
    for (const n of this.nodes) {
      const out = shapes.get(n.outputs[0]!);
      if (!out) continue;
      if (n.opType === 'Conv') {
        const w = this.initShape(n.inputs[1]!) ?? shapes.get(n.inputs[1]!);
        if (!w) continue;
        const [, cinPerGroup, kh, kw] = w as number[];
        conv += 2 * numel(out) * cinPerGroup! * kh! * kw!;
      } else if (n.opType === 'MatMul' || n.opType === 'MatMulNBits') {
        const a = shapes.get(n.inputs[0]!)!;
        const k = a[a.length - 1]!;
        const work = 2 * numel(out) * k;
        if (n.opType === 'MatMulNBits' || weights.has(n.inputs[1]!) || fromWeight.has(n.inputs[1]!)) linear += work;
        else attention += work;
      }
    }
    return { conv, linear, attention, total: conv + linear + attention };
  }

  private initShape(name: string): number[] | undefined {
    return this.initializers.find((i) => i.name === name)?.shape;
  }

  opTypes(): Map<string, number> {
    const m = new Map<string, number>();
    for (const n of this.nodes) {
      const k = n.domain ? `${n.domain}.${n.opType}` : n.opType;
      m.set(k, (m.get(k) ?? 0) + 1);
    }
    return m;
  }

  // ---- serialization --------------------------------------------------------------------------

  /**
   * Encode the ModelProto. Initializers for which `external(init)` returns a location are written
   * as external data (the caller writes those bytes to that file at that offset).
   */
  encode(external?: (init: Initializer) => { location: string; offset: number } | undefined): Uint8Array {
    const graph = new PbWriter();
    for (const n of this.nodes) graph.message(1, encodeNode(n));
    graph.string(2, this.name);
    for (const init of this.initializers) {
      const t = new PbWriter();
      for (const d of init.shape) t.int(1, d);
      t.int(2, ONNX_DTYPE[init.dtype]);
      t.string(8, init.name);
      const ext = external?.(init);
      if (ext) {
        t.message(13, new PbWriter().string(1, 'location').string(2, ext.location));
        t.message(13, new PbWriter().string(1, 'offset').string(2, String(ext.offset)));
        t.message(13, new PbWriter().string(1, 'length').string(2, String(init.byteLength)));
        t.int(14, 1);
      } else {
        t.bytes(9, init.bytes());
      }
      graph.message(5, t);
    }
    for (const v of this.inputs) graph.message(11, encodeValueInfo(v));
    for (const v of this.outputs) graph.message(12, encodeValueInfo(v));
    const model = new PbWriter();
    model.int(1, 8); // IR version 8 (opset 17 era)
    model.string(2, 'lavie-web-convert');
    model.string(3, '0.1.0');
    model.message(7, graph);
    for (const [domain, version] of Object.entries(this.opsetImports)) model.message(8, new PbWriter().string(1, domain).int(2, version));
    return model.finish();
  }
}

function encodeValueInfo(v: Value): PbWriter {
  const shape = new PbWriter();
  for (const d of v.shape) shape.message(1, new PbWriter().int(1, d));
  const tensorType = new PbWriter().int(1, ONNX_DTYPE[v.dtype]).message(2, shape);
  return new PbWriter().string(1, v.name).message(2, new PbWriter().message(1, tensorType));
}

function encodeNode(n: NodeDef): PbWriter {
  const w = new PbWriter();
  for (const i of n.inputs) w.string(1, i);
  for (const o of n.outputs) w.string(2, o);
  w.string(3, n.name);
  w.string(4, n.opType);
  for (const [name, v] of Object.entries(n.attrs)) {
    const a = new PbWriter().string(1, name);
    if (v instanceof FloatAttr) a.int(20, 1).float(2, v.v);
    else if (v instanceof FloatsAttr) {
      a.int(20, 6);
      for (const x of v.v) a.float(7, x);
    } else if (typeof v === 'number') {
      if (!Number.isInteger(v)) throw new Error(`attribute ${name} of ${n.opType}: use f() for floats`);
      a.int(20, 2).int(3, v);
    } else if (typeof v === 'string') a.int(20, 3).bytes(4, new TextEncoder().encode(v));
    else {
      a.int(20, 7);
      for (const x of v) a.int(8, x);
    }
    w.message(5, a);
  }
  if (n.domain) w.string(7, n.domain);
  return w;
}
