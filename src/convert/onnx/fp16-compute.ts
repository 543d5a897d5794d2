// The fp16-compute variant of a built graph, for adapters with WebGPU `shader-f16`.
//
// Same initializers (names, dtypes, bytes) as the float32 graph, so both variants point into one
// set of downloaded weight shards; only the small .onnx differs. Activations flow in float16:
//   - float weights reach compute through Cast nodes (fp16-stored weights are used directly; fp32
//     or dequantized ones get a Cast that ORT constant-folds at session creation);
//   - nodes the builder marked `keepFp32` (GroupNorm statistics, timestep sinusoids) and
//     DequantizeLinear stay float32, with Casts at their borders;
//   - graph inputs and outputs keep their float32 types, so the engine feeds both variants alike.
import { GraphBuilder, ONNX_DTYPE, type NodeDef } from './graph.ts';
import type { DType } from '../tensor.ts';

const FLOAT: ReadonlySet<DType> = new Set(['float32', 'float16']);

/** Ops whose outputs must stay float32 (their output type follows a float32 scale). */
const FP32_OPS = new Set(['DequantizeLinear']);
/** Input slots that the op spec fixes to float32 whatever the data type (Resize's roi and scales). */
const FIXED_F32_INPUTS: Record<string, readonly number[]> = { Resize: [1, 2] };

/** `keepFp32: false` ignores the builder's float32 islands (only to show in tests why they exist). */
export function fp16Compute(src: GraphBuilder, opts: { keepFp32?: boolean } = {}): GraphBuilder {
  const islands = opts.keepFp32 ?? true;
  const out = new GraphBuilder(src.name);
  Object.assign(out.opsetImports, src.opsetImports);
  out.initializers.push(...src.initializers);
  out.inputs.push(...src.inputs);

  // Shapes never change; dtypes are those of the new graph (inputs and initializers keep theirs).
  const shapeOf = new Map<string, readonly number[]>();
  for (const v of [...src.inputs, ...src.produced]) shapeOf.set(v.name, v.shape);
  for (const i of src.initializers) shapeOf.set(i.name, i.shape);
  const srcDtype = new Map(src.produced.map((v) => [v.name, v.dtype] as const));
  const dtypeOf = new Map<string, DType>();
  for (const v of src.inputs) dtypeOf.set(v.name, v.dtype);
  for (const i of src.initializers) dtypeOf.set(i.name, i.dtype);

  // Graph outputs are produced under a private name and cast back to float32 under their own.
  const outputNames = new Set(src.outputs.map((o) => o.name));
  const inner = (name: string) => (outputNames.has(name) ? `${name}@inner` : name);
  const alias = new Map<string, string>();
  const resolve = (name: string) => alias.get(name) ?? inner(name);

  /** Emit `node`; its i-th output has the shape of `shapeFrom[i]` (a source value) and dtype `dtypes[i]`. */
  const emit = (node: NodeDef, shapeFrom: string[], dtypes: DType[]) => {
    out.nodes.push(node);
    node.outputs.forEach((o, i) => {
      const shape = shapeOf.get(shapeFrom[i]!)!;
      shapeOf.set(o, shape);
      dtypeOf.set(o, dtypes[i]!);
      out.produced.push({ name: o, dtype: dtypes[i]!, shape });
    });
  };
  const cast = (name: string, input: string, output: string, to: DType): NodeDef => ({ opType: 'Cast', domain: '', name, inputs: [input], outputs: [output], attrs: { to: ONNX_DTYPE[to] } });
  const casts = new Map<string, string>();
  const castTo = (name: string, to: DType): string => {
    if (dtypeOf.get(name) === to) return name;
    const key = `${name}->${to}`;
    let c = casts.get(key);
    if (!c) {
      c = `${name}@${to === 'float16' ? 'f16' : 'f32'}`;
      casts.set(key, c);
      emit(cast(`${c}/cast`, name, c, to), [name], [to]);
    }
    return c;
  };

  for (const n of src.nodes) {
    const compute: DType = (n.fp32 && islands) || FP32_OPS.has(n.opType) ? 'float32' : 'float16';
    if (n.opType === 'Cast' && n.attrs.to === ONNX_DTYPE.float32) {
      // A Cast to float32 (fp16 weights, int → float): in fp16 code it casts to float16, and is
      // dropped when its input already is float16.
      const input = resolve(n.inputs[0]!);
      if (dtypeOf.get(input) === compute) alias.set(n.outputs[0]!, input);
      else emit(cast(n.name, input, inner(n.outputs[0]!), compute), n.outputs, [compute]);
      continue;
    }
    const fixed = FIXED_F32_INPUTS[n.opType] ?? [];
    const inputs = n.inputs.map((name, slot) => {
      if (!name) return name;
      const r = resolve(name);
      return FLOAT.has(dtypeOf.get(r)!) ? castTo(r, fixed.includes(slot) ? 'float32' : compute) : r;
    });
    const dtypes = n.outputs.map((o) => (FLOAT.has(srcDtype.get(o)!) ? compute : srcDtype.get(o)!));
    emit({ ...n, inputs, outputs: n.outputs.map(inner) }, n.outputs, dtypes);
  }

  for (const o of src.outputs) {
    emit(cast(`${o.name}/cast_out`, resolve(o.name), o.name, o.dtype), [o.name], [o.dtype]);
    out.outputs.push(o);
  }
  return out;
}

/** Per-dtype count of the float inputs of each op type (tests assert where float32 remains). */
export function computeDtypes(g: GraphBuilder): Map<string, { float16: number; float32: number }> {
  const dtype = new Map<string, DType>();
  for (const v of [...g.inputs, ...g.produced]) dtype.set(v.name, v.dtype);
  for (const i of g.initializers) dtype.set(i.name, i.dtype);
  const m = new Map<string, { float16: number; float32: number }>();
  for (const n of g.nodes) {
    if (n.opType === 'Cast') continue;
    const d = dtype.get(n.inputs[0]!);
    if (d !== 'float16' && d !== 'float32') continue;
    const e = m.get(n.opType) ?? { float16: 0, float32: 0 };
    e[d]++;
    m.set(n.opType, e);
  }
  return m;
}
