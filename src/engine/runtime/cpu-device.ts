// Float32Array implementation of TensorDevice: the Node reference path (onnxruntime-node) and the
// wasm fallback. It is also the ground truth the WGSL kernels are tested against.
import type * as ortTypes from 'onnxruntime-common';
import { cfhw, numelOf, type DeviceCounters, type DeviceTensor, type Offset5, type Term, type TensorDevice } from './device.ts';

class CpuTensor implements DeviceTensor {
  readonly size: number;
  constructor(readonly dims: readonly number[], public data: Float32Array) {
    this.size = data.length;
  }
}

const cpu = (t: DeviceTensor): CpuTensor => {
  if (!(t instanceof CpuTensor)) throw new Error('tensor belongs to another device');
  return t;
};

/** uint8 of (y/2 + 0.5)·255, rounded half up and clamped — LaVie's base/interp conversion. */
export function unitToByte(y: number): number {
  const v = Math.floor((y / 2 + 0.5) * 255 + 0.5);
  return v < 0 ? 0 : v > 255 ? 255 : v;
}

/** LaVie VSR's conversion: trunc(clamp(y/2 + 0.5, 0, 1) · 255), no rounding. */
export function unitToByteTruncated(y: number): number {
  const u = Math.min(1, Math.max(0, Math.fround(Math.fround(y / 2) + 0.5)));
  return Math.trunc(Math.fround(u * 255));
}

export class CpuDevice implements TensorDevice {
  readonly kind = 'cpu' as const;
  readonly bindsOutputs = false;
  readonly counters: DeviceCounters = { readbacks: 0, readbackBytes: 0, uploads: 0, uploadBytes: 0, kernelDispatches: 0 };

  constructor(private readonly ort: { Tensor: typeof ortTypes.Tensor }) {}

  private live = new Set<DeviceTensor>();

  get liveTensors(): number {
    return this.live.size;
  }

  alloc(dims: readonly number[]): DeviceTensor {
    const t = new CpuTensor([...dims], new Float32Array(numelOf(dims)));
    this.live.add(t);
    return t;
  }

  free(t: DeviceTensor): void {
    this.live.delete(t);
  }

  upload(t: DeviceTensor, data: Float32Array): void {
    const c = cpu(t);
    if (data.length !== c.size) throw new Error(`upload: ${data.length} values into ${c.size}`);
    c.data.set(data);
    this.counters.uploads++;
    this.counters.uploadBytes += data.byteLength;
  }

  async read(t: DeviceTensor): Promise<Float32Array> {
    this.counters.readbacks++;
    this.counters.readbackBytes += t.size * 4;
    return cpu(t).data.slice();
  }

  linear(out: DeviceTensor, terms: readonly Term[]): void {
    const o = cpu(out);
    const src = terms.map(([t, c]) => [cpu(t).data, c] as const);
    const n = o.size;
    const acc = new Float32Array(n);
    for (const [d, c] of src) for (let i = 0; i < n; i++) acc[i] = acc[i]! + c * d[i]!;
    o.data.set(acc);
    this.counters.kernelDispatches++;
  }

  guidedUpdate(out: DeviceTensor, x: DeviceTensor, eps2: DeviceTensor, noise: DeviceTensor | null, k: { g: number; a: number; b: number; c: number }): void {
    const o = cpu(out).data;
    const xd = cpu(x).data;
    const e = cpu(eps2).data;
    const z = noise ? cpu(noise).data : null;
    const n = xd.length;
    if (e.length !== 2 * n) throw new Error('guidedUpdate: eps2 must hold two halves of x');
    for (let i = 0; i < n; i++) {
      const eu = e[i]!;
      const eps = eu + k.g * (e[n + i]! - eu);
      o[i] = k.a * xd[i]! + k.b * eps + (z ? k.c * z[i]! : 0);
    }
    this.counters.kernelDispatches++;
  }

  duplicate(out2: DeviceTensor, x: DeviceTensor, s: number): void {
    const o = cpu(out2).data;
    const xd = cpu(x).data;
    for (let i = 0; i < xd.length; i++) o[i] = o[xd.length + i] = s * xd[i]!;
    this.counters.kernelDispatches++;
  }

  extractFrame(out: DeviceTensor, video: DeviceTensor, f: number, s: number): void {
    const [, c, frames, h, w] = video.dims as [number, number, number, number, number];
    const o = cpu(out).data;
    const v = cpu(video).data;
    const hw = h * w;
    for (let ch = 0; ch < c; ch++) for (let i = 0; i < hw; i++) o[ch * hw + i] = s * v[(ch * frames + f) * hw + i]!;
    this.counters.kernelDispatches++;
  }

  async toRgba(image: DeviceTensor, mode: 'round' | 'truncate' = 'round'): Promise<Uint8Array> {
    const [, , h, w] = image.dims as [number, number, number, number];
    const d = cpu(image).data;
    const hw = h * w;
    const out = new Uint8Array(hw * 4);
    const byte = mode === 'round' ? unitToByte : unitToByteTruncated;
    for (let i = 0; i < hw; i++) {
      out[4 * i] = byte(d[i]!);
      out[4 * i + 1] = byte(d[hw + i]!);
      out[4 * i + 2] = byte(d[2 * hw + i]!);
      out[4 * i + 3] = 255;
    }
    this.counters.readbacks++;
    this.counters.readbackBytes += out.byteLength;
    return out;
  }

  crop(out: DeviceTensor, src: DeviceTensor, at: Offset5, s = 1): void {
    const [c, tf, th, tw] = cfhw(out.dims);
    const [sc, sf, sh, sw] = cfhw(src.dims);
    const { f0 = 0, y0 = 0, x0 = 0 } = at;
    if (sc !== c || f0 + tf > sf || y0 + th > sh || x0 + tw > sw) throw new Error(`crop: [${out.dims}] at ${f0},${y0},${x0} outside [${src.dims}]`);
    const o = cpu(out).data;
    const v = cpu(src).data;
    let i = 0;
    for (let ch = 0; ch < c; ch++) for (let f = 0; f < tf; f++) for (let y = 0; y < th; y++) for (let x = 0; x < tw; x++) o[i++] = s * v[((ch * sf + f0 + f) * sh + y0 + y) * sw + x0 + x]!;
    this.counters.kernelDispatches++;
  }

  accumulateTile(acc: DeviceTensor, tile: { a: DeviceTensor; aOff?: number; b?: DeviceTensor | null; bOff?: number; g?: number; weights: DeviceTensor; dims: readonly number[] }, at: Offset5): void {
    const [c, tf, th, tw] = cfhw(tile.dims);
    const [ac, af, ah, aw] = cfhw(acc.dims);
    const { f0 = 0, y0 = 0, x0 = 0 } = at;
    if (ac !== c || f0 + tf > af || y0 + th > ah || x0 + tw > aw) throw new Error(`accumulateTile: [${tile.dims}] at ${f0},${y0},${x0} outside [${acc.dims}]`);
    const o = cpu(acc).data;
    const a = cpu(tile.a).data;
    const b = tile.b ? cpu(tile.b).data : null;
    const w = cpu(tile.weights).data;
    const aOff = tile.aOff ?? 0;
    const bOff = tile.bOff ?? 0;
    const g = tile.g ?? 0;
    let i = 0;
    for (let ch = 0; ch < c; ch++) for (let f = 0; f < tf; f++) for (let y = 0; y < th; y++) for (let x = 0; x < tw; x++, i++) {
      const av = a[aOff + i]!;
      const v = b ? av + g * (b[bOff + i]! - av) : av;
      o[((ch * af + f0 + f) * ah + y0 + y) * aw + x0 + x] += w[y * tw + x]! * v;
    }
    this.counters.kernelDispatches++;
  }

  asOrt(t: DeviceTensor): ortTypes.Tensor {
    return new this.ort.Tensor('float32', cpu(t).data, [...t.dims]);
  }

  fromOrt(t: ortTypes.Tensor, into: DeviceTensor): void {
    const c = cpu(into);
    const d = t.data as Float32Array;
    if (d.length !== c.size) throw new Error(`fromOrt: ${d.length} values into ${c.size}`);
    c.data = d;
  }

  async sync(): Promise<void> {}
  dispose(): void {}
}
