// A restricted unpickler for torch.save's data.pkl. It interprets the opcode stream as data only:
// GLOBAL / STACK_GLOBAL resolve to a small allow-list of *descriptions* (nothing is imported or
// called), REDUCE applies only those descriptions, and any other global is refused with
// CheckpointError('unsafe-pickle'). Malformed streams (unknown opcode, stack underflow, memo
// miss, lengths past the end) are CheckpointError('bad-format' | 'truncated'), never a crash or hang.
import { CheckpointError } from '../errors.ts';

/** A persistent reference to a storage in the zip: ('storage', <type>, key, location, numel). */
export interface StorageRef { kind: 'storage'; dtype: string; key: string; numel: number }

/** What _rebuild_tensor_v2 describes: a view into a storage. */
export interface TensorDesc { kind: 'tensor'; storage: StorageRef; offset: number; size: number[]; stride: number[] }

/** An object we decline to interpret but that is harmless to carry (e.g. argparse.Namespace). */
export interface InertObject { kind: 'inert'; type: string; state?: unknown }

export type PickleValue = null | boolean | number | bigint | string | Uint8Array | PickleValue[] | Map<PickleValue, PickleValue> | Tuple | StorageRef | TensorDesc | InertObject | Global;

export class Tuple {
  constructor(readonly items: PickleValue[]) {}
}
class Global {
  constructor(readonly module: string, readonly name: string) {}
}
const MARK = Symbol('mark');

/** Storage classes → dtype. */
const STORAGE_DTYPES: Record<string, string> = {
  FloatStorage: 'float32', HalfStorage: 'float16', BFloat16Storage: 'bfloat16', DoubleStorage: 'float64',
  LongStorage: 'int64', IntStorage: 'int32', ShortStorage: 'int16', CharStorage: 'int8', ByteStorage: 'uint8', BoolStorage: 'bool',
};

/** Globals a state-dict checkpoint may name. Anything else is refused. */
const ALLOWED = new Set([
  'collections.OrderedDict',
  'torch._utils._rebuild_tensor_v2',
  'torch._utils._rebuild_parameter',
  'torch._utils._rebuild_parameter_with_state',
  ...Object.keys(STORAGE_DTYPES).map((s) => `torch.${s}`),
  // Harmless containers training scripts put next to the weights; kept as inert records.
  'argparse.Namespace',
]);

function isMap(v: unknown): v is Map<PickleValue, PickleValue> {
  return v instanceof Map;
}

export function unpickle(data: Uint8Array, file = '<pickle>'): PickleValue {
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const stack: (PickleValue | typeof MARK)[] = [];
  const marks: number[] = [];
  const memo = new Map<number, PickleValue>();
  let p = 0;
  const bad = (msg: string): never => {
    throw new CheckpointError('bad-format', `${file}: pickle: ${msg} (at byte ${p})`, { file });
  };
  const need = (n: number) => {
    if (n < 0 || p + n > data.byteLength) throw new CheckpointError('truncated', `${file}: pickle ends inside an opcode (at byte ${p})`, { file });
  };
  const u8 = () => (need(1), data[p++]!);
  const take = (n: number) => {
    need(n);
    const b = data.subarray(p, p + n);
    p += n;
    return b;
  };
  const pop = (): PickleValue => {
    const v = stack.pop();
    if (v === undefined || v === MARK) bad('stack underflow');
    return v as PickleValue;
  };
  const top = (): PickleValue => {
    const v = stack[stack.length - 1];
    if (v === undefined || v === MARK) bad('stack underflow');
    return v as PickleValue;
  };
  const popMark = (): PickleValue[] => {
    const m = marks.pop();
    if (m === undefined) bad('no MARK');
    const items = stack.splice(m!);
    return items as PickleValue[];
  };
  const str = (b: Uint8Array) => new TextDecoder('utf-8').decode(b);
  const global = (module: string, name: string): PickleValue => {
    const full = `${module}.${name}`;
    if (!ALLOWED.has(full)) throw new CheckpointError('unsafe-pickle', `${file}: refusing pickle global "${full}" (only state-dict types are allowed; nothing was executed)`, { file });
    return new Global(module, name);
  };
  const reduce = (fn: PickleValue, args: PickleValue): PickleValue => {
    if (!(fn instanceof Global)) return bad('REDUCE on a non-global');
    const a = args instanceof Tuple ? args.items : bad('REDUCE arguments are not a tuple');
    switch (`${fn.module}.${fn.name}`) {
      case 'collections.OrderedDict':
        return new Map();
      case 'torch._utils._rebuild_tensor_v2': {
        const [storage, offset, size, stride] = a;
        const ints = (v: PickleValue) => (v instanceof Tuple && v.items.every((x) => typeof x === 'number') ? (v.items as number[]) : bad('tensor size/stride must be int tuples'));
        if (!storage || (storage as StorageRef).kind !== 'storage') return bad('tensor without storage');
        if (typeof offset !== 'number') return bad('tensor offset must be an int');
        const sz = ints(size!);
        const st = ints(stride!);
        if (sz.length !== st.length) return bad('size/stride rank mismatch');
        return { kind: 'tensor', storage: storage as StorageRef, offset, size: sz, stride: st };
      }
      case 'torch._utils._rebuild_parameter':
      case 'torch._utils._rebuild_parameter_with_state':
        return a[0] ?? bad('parameter without data');
      case 'argparse.Namespace':
        return { kind: 'inert', type: 'argparse.Namespace' };
      default:
        return bad(`cannot call ${fn.module}.${fn.name}`);
    }
  };

  for (;;) {
    if (p >= data.byteLength) throw new CheckpointError('truncated', `${file}: pickle ends without STOP`, { file });
    const op = data[p++]!;
    switch (op) {
      case 0x80: u8(); break; // PROTO
      case 0x95: take(8); break; // FRAME
      case 0x2e: { // STOP
        const v = pop();
        return v;
      }
      case 0x28: marks.push(stack.length); break; // MARK
      case 0x7d: stack.push(new Map()); break; // EMPTY_DICT
      case 0x5d: stack.push([]); break; // EMPTY_LIST
      case 0x29: stack.push(new Tuple([])); break; // EMPTY_TUPLE
      case 0x4e: stack.push(null); break; // NONE
      case 0x88: stack.push(true); break;
      case 0x89: stack.push(false); break;
      case 0x4b: stack.push(u8()); break; // BININT1
      case 0x4d: { need(2); stack.push(dv.getUint16(p, true)); p += 2; break; } // BININT2
      case 0x4a: { need(4); stack.push(dv.getInt32(p, true)); p += 4; break; } // BININT
      case 0x8a: { // LONG1
        const n = u8();
        const b = take(n);
        let v = 0n;
        for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]!);
        if (n && b[n - 1]! & 0x80) v -= 1n << BigInt(8 * n);
        stack.push(v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v);
        break;
      }
      case 0x47: { need(8); stack.push(dv.getFloat64(p, false)); p += 8; break; } // BINFLOAT
      case 0x58: { need(4); const n = dv.getUint32(p, true); p += 4; stack.push(str(take(n))); break; } // BINUNICODE
      case 0x8c: { const n = u8(); stack.push(str(take(n))); break; } // SHORT_BINUNICODE
      case 0x8d: { need(8); const n = Number(dv.getBigUint64(p, true)); p += 8; stack.push(str(take(n))); break; } // BINUNICODE8
      case 0x43: { const n = u8(); stack.push(take(n).slice()); break; } // SHORT_BINBYTES
      case 0x42: { need(4); const n = dv.getUint32(p, true); p += 4; stack.push(take(n).slice()); break; } // BINBYTES
      case 0x74: stack.push(new Tuple(popMark())); break; // TUPLE
      case 0x85: stack.push(new Tuple([pop()])); break;
      case 0x86: { const b = pop(); const a = pop(); stack.push(new Tuple([a, b])); break; }
      case 0x87: { const c = pop(); const b = pop(); const a = pop(); stack.push(new Tuple([a, b, c])); break; }
      case 0x6c: stack.push(popMark()); break; // LIST
      case 0x61: { const v = pop(); const l = top(); if (!Array.isArray(l)) bad('APPEND to a non-list'); (l as PickleValue[]).push(v); break; }
      case 0x65: { const items = popMark(); const l = top(); if (!Array.isArray(l)) bad('APPENDS to a non-list'); (l as PickleValue[]).push(...items); break; }
      case 0x64: { // DICT
        const items = popMark();
        if (items.length % 2) bad('odd DICT items');
        const m = new Map<PickleValue, PickleValue>();
        for (let i = 0; i < items.length; i += 2) m.set(items[i]!, items[i + 1]!);
        stack.push(m);
        break;
      }
      case 0x73: { const v = pop(); const k = pop(); const d = top(); if (!isMap(d)) bad('SETITEM on a non-dict'); (d as Map<PickleValue, PickleValue>).set(k, v); break; }
      case 0x75: { // SETITEMS
        const items = popMark();
        const d = top();
        if (!isMap(d) || items.length % 2) bad('bad SETITEMS');
        for (let i = 0; i < items.length; i += 2) (d as Map<PickleValue, PickleValue>).set(items[i]!, items[i + 1]!);
        break;
      }
      case 0x71: memo.set(u8(), top()); break; // BINPUT
      case 0x72: { need(4); memo.set(dv.getUint32(p, true), top()); p += 4; break; } // LONG_BINPUT
      case 0x94: memo.set(memo.size, top()); break; // MEMOIZE
      case 0x68: { const k = u8(); if (!memo.has(k)) bad(`memo ${k} missing`); stack.push(memo.get(k)!); break; } // BINGET
      case 0x6a: { need(4); const k = dv.getUint32(p, true); p += 4; if (!memo.has(k)) bad(`memo ${k} missing`); stack.push(memo.get(k)!); break; }
      case 0x63: { // GLOBAL "module\nname\n"
        const readLine = () => {
          const end = data.indexOf(0x0a, p);
          if (end < 0 || end - p > 256) throw new CheckpointError('truncated', `${file}: pickle GLOBAL without newline`, { file });
          const s = str(data.subarray(p, end));
          p = end + 1;
          return s;
        };
        const module = readLine();
        stack.push(global(module, readLine()));
        break;
      }
      case 0x93: { // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') bad('STACK_GLOBAL needs two strings');
        stack.push(global(module as string, name as string));
        break;
      }
      case 0x52: { const args = pop(); const fn = pop(); stack.push(reduce(fn, args)); break; } // REDUCE
      case 0x62: { // BUILD: state for an object; for dicts (OrderedDict._metadata) and inert records we keep data only
        const state = pop();
        const obj = top();
        if (obj && typeof obj === 'object' && (obj as InertObject).kind === 'inert') (obj as InertObject).state = state;
        else if (!isMap(obj)) bad('BUILD on an unsupported object');
        break;
      }
      case 0x51: { // BINPERSID
        const pid = pop();
        if (!(pid instanceof Tuple) || pid.items[0] !== 'storage') bad('unsupported persistent id');
        const [, type, key, , numel] = (pid as Tuple).items;
        if (!(type instanceof Global) || !STORAGE_DTYPES[type.name]) bad('unknown storage type');
        if (typeof key !== 'string' || typeof numel !== 'number' || numel < 0) bad('bad storage reference');
        stack.push({ kind: 'storage', dtype: STORAGE_DTYPES[(type as Global).name]!, key: key as string, numel: numel as number });
        break;
      }
      case 0x81: // NEWOBJ
      case 0x92: { // NEWOBJ_EX
        if (op === 0x92) pop();
        const args = pop();
        const cls = pop();
        stack.push(reduce(cls, args instanceof Tuple ? args : new Tuple([])));
        break;
      }
      default:
        bad(`unsupported opcode 0x${op.toString(16)}`);
    }
    if (stack.length > 10_000_000) bad('stack too deep');
  }
}
