// TensorDevice on WebGPU: GPUBuffers on the GPUDevice we create and hand to ORT, so our WGSL
// kernels and ORT's sessions read and write the same buffers (no copies, no readbacks).
import type * as ortTypes from 'onnxruntime-common';
import { cfhw, numelOf, type DeviceCounters, type DeviceTensor, type Offset5, type Term, type TensorDevice } from './device.ts';
import type { GpuMemoryCounter } from './gpu-memory.ts';
import { KERNELS, type KernelName } from './kernels.ts';

const USAGE = 0x80 /* STORAGE */ | 0x04 /* COPY_SRC */ | 0x08; /* COPY_DST */

class GpuTensor implements DeviceTensor {
  readonly size: number;
  constructor(readonly dims: readonly number[], readonly buffer: GPUBuffer) {
    this.size = numelOf(dims);
  }
}

const gpu = (t: DeviceTensor): GpuTensor => {
  if (!(t instanceof GpuTensor)) throw new Error('tensor belongs to another device');
  return t;
};

const WG = 256;

export class WebGpuDevice implements TensorDevice {
  readonly kind = 'webgpu' as const;
  readonly bindsOutputs = true;
  readonly counters: DeviceCounters = { readbacks: 0, readbackBytes: 0, uploads: 0, uploadBytes: 0, kernelDispatches: 0 };
  private pipelines = new Map<KernelName, GPUComputePipeline>();
  private dummy: GPUBuffer;
  private live = new Set<GPUBuffer>();

  constructor(readonly device: GPUDevice, private readonly ort: { Tensor: typeof ortTypes.Tensor }, private readonly memory?: GpuMemoryCounter) {
    this.dummy = this.createBuffer({ size: 16, usage: USAGE });
  }

  /** Every buffer of ours goes through here: the memory counter books it to 'kernels'. */
  private createBuffer(desc: GPUBufferDescriptor): GPUBuffer {
    return this.memory ? this.memory.as('kernels', () => this.device.createBuffer(desc)) : this.device.createBuffer(desc);
  }

  /** Buffers currently allocated by the engine (leak checks). */
  get liveBuffers(): number {
    return this.live.size;
  }

  get liveTensors(): number {
    return this.live.size;
  }

  alloc(dims: readonly number[]): DeviceTensor {
    const n = numelOf(dims);
    const buffer = this.createBuffer({ size: Math.max(16, Math.ceil((n * 4) / 16) * 16), usage: USAGE });
    this.live.add(buffer);
    return new GpuTensor([...dims], buffer);
  }

  free(t: DeviceTensor): void {
    const g = gpu(t);
    this.live.delete(g.buffer);
    g.buffer.destroy();
  }

  upload(t: DeviceTensor, data: Float32Array): void {
    const g = gpu(t);
    if (data.length !== g.size) throw new Error(`upload: ${data.length} values into ${g.size}`);
    this.device.queue.writeBuffer(g.buffer, 0, data.buffer, data.byteOffset, data.byteLength);
    this.counters.uploads++;
    this.counters.uploadBytes += data.byteLength;
  }

  private async readBytes(buffer: GPUBuffer, bytes: number): Promise<ArrayBuffer> {
    const staging = this.createBuffer({ size: Math.ceil(bytes / 4) * 4, usage: 0x01 /* MAP_READ */ | 0x08 /* COPY_DST */ });
    const enc = this.device.createCommandEncoder();
    enc.copyBufferToBuffer(buffer, 0, staging, 0, Math.ceil(bytes / 4) * 4);
    this.device.queue.submit([enc.finish()]);
    await staging.mapAsync(1 /* READ */);
    const copy = staging.getMappedRange().slice(0, bytes);
    staging.unmap();
    staging.destroy();
    this.counters.readbacks++;
    this.counters.readbackBytes += bytes;
    return copy;
  }

  async read(t: DeviceTensor): Promise<Float32Array> {
    return new Float32Array(await this.readBytes(gpu(t).buffer, t.size * 4));
  }

  private pipeline(name: KernelName): GPUComputePipeline {
    let p = this.pipelines.get(name);
    if (!p) {
      const module = this.device.createShaderModule({ code: KERNELS[name], label: name });
      p = this.device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'main' }, label: name });
      this.pipelines.set(name, p);
    }
    return p;
  }

  /** Run one kernel over `n` invocations; bindings 0..k are the buffers, the last is the uniform block. */
  private dispatch(name: KernelName, n: number, buffers: GPUBuffer[], params: ArrayBuffer): void {
    const p = this.pipeline(name);
    const uniform = this.createBuffer({ size: Math.max(16, Math.ceil(params.byteLength / 16) * 16), usage: 0x40 /* UNIFORM */ | 0x08 });
    this.device.queue.writeBuffer(uniform, 0, params);
    const entries: GPUBindGroupEntry[] = buffers.map((buffer, i) => ({ binding: i, resource: { buffer } }));
    entries.push({ binding: buffers.length, resource: { buffer: uniform } });
    const bind = this.device.createBindGroup({ layout: p.getBindGroupLayout(0), entries });
    const enc = this.device.createCommandEncoder();
    const pass = enc.beginComputePass();
    pass.setPipeline(p);
    pass.setBindGroup(0, bind);
    const groups = Math.ceil(n / WG);
    const x = Math.min(groups, 65535);
    pass.dispatchWorkgroups(x, Math.ceil(groups / x));
    pass.end();
    this.device.queue.submit([enc.finish()]);
    uniform.destroy();
    this.counters.kernelDispatches++;
  }

  private copy(dst: GpuTensor, src: GpuTensor): void {
    const enc = this.device.createCommandEncoder();
    enc.copyBufferToBuffer(src.buffer, 0, dst.buffer, 0, src.size * 4);
    this.device.queue.submit([enc.finish()]);
  }

  linear(out: DeviceTensor, terms: readonly Term[]): void {
    const o = gpu(out);
    let ts = terms.map(([t, c]) => [gpu(t), c] as const);
    // The kernel updates `out` in place: out = c0·out + c1·t1 + c2·t2 + c3·t3.
    let c0 = 0;
    const self = ts.findIndex(([t]) => t === o);
    if (self >= 0) {
      c0 = ts[self]![1];
      ts = ts.filter((_, i) => i !== self);
    } else if (ts.length) {
      this.copy(o, ts[0]![0]);
      c0 = ts[0]![1];
      ts = ts.slice(1);
    }
    if (ts.length > 3) throw new Error('linear: at most 4 terms');
    const bufs = [o.buffer, ...[0, 1, 2].map((i) => ts[i]?.[0].buffer ?? this.dummy)];
    const params = new Float32Array([c0, ts[0]?.[1] ?? 0, ts[1]?.[1] ?? 0, ts[2]?.[1] ?? 0]);
    const u = new Uint32Array(8);
    new Float32Array(u.buffer).set(params);
    u[4] = o.size;
    u[5] = ts.length;
    this.dispatch('linear', o.size, bufs, u.buffer);
  }

  guidedUpdate(out: DeviceTensor, x: DeviceTensor, eps2: DeviceTensor, noise: DeviceTensor | null, k: { g: number; a: number; b: number; c: number }): void {
    const o = gpu(out);
    if (o !== x) this.copy(o, gpu(x));
    const u = new Uint32Array(8);
    new Float32Array(u.buffer).set([k.g, k.a, k.b, noise ? k.c : 0]);
    u[4] = o.size;
    u[5] = noise ? 1 : 0;
    this.dispatch('guidedUpdate', o.size, [o.buffer, gpu(eps2).buffer, noise ? gpu(noise).buffer : this.dummy], u.buffer);
  }

  duplicate(out2: DeviceTensor, x: DeviceTensor, s: number): void {
    const u = new Uint32Array(4);
    new Float32Array(u.buffer)[0] = s;
    u[1] = x.size;
    this.dispatch('duplicate', x.size, [gpu(out2).buffer, gpu(x).buffer], u.buffer);
  }

  extractFrame(out: DeviceTensor, video: DeviceTensor, f: number, s: number): void {
    const [, c, frames, h, w] = video.dims as [number, number, number, number, number];
    const u = new Uint32Array(8);
    new Float32Array(u.buffer)[0] = s;
    u[1] = c;
    u[2] = frames;
    u[3] = h * w;
    u[4] = f;
    this.dispatch('extractFrame', c * h * w, [gpu(out).buffer, gpu(video).buffer], u.buffer);
  }

  async toRgba(image: DeviceTensor, mode: 'round' | 'truncate' = 'round'): Promise<Uint8Array> {
    const [, , h, w] = image.dims as [number, number, number, number];
    const hw = h * w;
    const packed = this.createBuffer({ size: Math.max(16, hw * 4), usage: USAGE });
    const u = new Uint32Array(4);
    u[0] = hw;
    u[1] = mode === 'truncate' ? 1 : 0;
    this.dispatch('toRgba', hw, [packed, gpu(image).buffer], u.buffer);
    const bytes = new Uint8Array(await this.readBytes(packed, hw * 4));
    packed.destroy();
    return bytes;
  }

  crop(out: DeviceTensor, src: DeviceTensor, at: Offset5, s = 1): void {
    const [c, tf, th, tw] = cfhw(out.dims);
    const [sc, sf, sh, sw] = cfhw(src.dims);
    const { f0 = 0, y0 = 0, x0 = 0 } = at;
    if (sc !== c || f0 + tf > sf || y0 + th > sh || x0 + tw > sw) throw new Error(`crop: [${out.dims}] at ${f0},${y0},${x0} outside [${src.dims}]`);
    const u = new Uint32Array(12);
    new Float32Array(u.buffer)[0] = s;
    u.set([out.size, tf, th, tw, sf, sh, sw, f0, y0, x0], 1);
    this.dispatch('crop', out.size, [gpu(out).buffer, gpu(src).buffer], u.buffer);
  }

  accumulateTile(acc: DeviceTensor, tile: { a: DeviceTensor; aOff?: number; b?: DeviceTensor | null; bOff?: number; g?: number; weights: DeviceTensor; dims: readonly number[] }, at: Offset5): void {
    const [c, tf, th, tw] = cfhw(tile.dims);
    const [ac, af, ah, aw] = cfhw(acc.dims);
    const { f0 = 0, y0 = 0, x0 = 0 } = at;
    if (ac !== c || f0 + tf > af || y0 + th > ah || x0 + tw > aw) throw new Error(`accumulateTile: [${tile.dims}] at ${f0},${y0},${x0} outside [${acc.dims}]`);
    const n = c * tf * th * tw;
    const u = new Uint32Array(16);
    new Float32Array(u.buffer)[0] = tile.g ?? 0;
    u.set([n, tf, th, tw, af, ah, aw, f0, y0, x0, tile.aOff ?? 0, tile.bOff ?? 0, tile.b ? 1 : 0], 1);
    this.dispatch('accumulateTile', n, [gpu(acc).buffer, gpu(tile.a).buffer, tile.b ? gpu(tile.b).buffer : this.dummy, gpu(tile.weights).buffer], u.buffer);
  }

  asOrt(t: DeviceTensor): ortTypes.Tensor {
    return this.ort.Tensor.fromGpuBuffer(gpu(t).buffer, { dataType: 'float32', dims: [...t.dims] });
  }

  fromOrt(t: ortTypes.Tensor, into: DeviceTensor): void {
    // Outputs are bound to our buffers (bindsOutputs); only a mismatch would land here.
    if (t.location === 'gpu-buffer' && t.gpuBuffer === gpu(into).buffer) return;
    throw new Error('WebGpuDevice.fromOrt: ORT output was not written into the bound buffer');
  }

  async sync(): Promise<void> {
    await this.device.queue.onSubmittedWorkDone();
  }

  dispose(): void {
    for (const b of this.live) b.destroy();
    this.live.clear();
    this.dummy.destroy();
  }
}
