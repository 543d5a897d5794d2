// GPU memory counter (issue 20): we create the one GPUDevice that ORT and our WGSL kernels share,
// so wrapping its createBuffer (and each buffer's destroy) sees every byte either of them holds.
// Bytes are attributed to an owner — 'kernels' while our TensorDevice allocates, 'ort' otherwise
// (sessions' weights, ORT's allocator, transformers.js' text encoder) — and to the phase running
// at the time (pack load, then each stage of a generation). DOM-free and ORT-free: Node tests drive
// it with a fake device.
import type { GpuMemoryOwner, GpuMemoryPhase, GpuMemoryReport } from '../../protocol.ts';

/** The slice of GPUDevice the counter wraps (a fake one in tests). */
export interface BufferFactory {
  createBuffer(desc: { size: number; usage: number; mappedAtCreation?: boolean; label?: string }): { readonly size: number; destroy(): void };
}

interface Tally { live: number; peak: number }
const tally = (): Tally => ({ live: 0, peak: 0 });

interface PhaseTally { peak: number; owners: Record<GpuMemoryOwner, number> }

export class GpuMemoryCounter {
  private owner: GpuMemoryOwner = 'ort';
  private phase: GpuMemoryPhase = 'load';
  private readonly total = tally();
  private readonly owners: Record<GpuMemoryOwner, Tally> = { ort: tally(), kernels: tally() };
  private phases = new Map<GpuMemoryPhase, PhaseTally>();
  private readonly sizes = new WeakMap<object, { bytes: number; owner: GpuMemoryOwner }>();
  // A buffer dropped without destroy() (a released handle) is freed when collected: count that too.
  private readonly collected = typeof FinalizationRegistry === 'function'
    ? new FinalizationRegistry<{ bytes: number; owner: GpuMemoryOwner }>((s) => this.release(s))
    : null;
  /** Buffers created and not yet destroyed. */
  buffers = 0;

  constructor() {
    this.enter('load');
  }

  /**
   * Count every buffer `device` creates from now on. Patches the instance (not the prototype):
   * ORT receives this very object, so its allocations go through the wrapper too.
   */
  install<D extends BufferFactory>(device: D): D {
    const create = device.createBuffer.bind(device);
    const self = this;
    device.createBuffer = function createBuffer(desc) {
      const buffer = create(desc);
      self.track(buffer, desc.size);
      return buffer;
    } as D['createBuffer'];
    return device;
  }

  /** Run `fn` (synchronous: createBuffer is) with its allocations attributed to `owner`. */
  as<T>(owner: GpuMemoryOwner, fn: () => T): T {
    const prev = this.owner;
    this.owner = owner;
    try {
      return fn();
    } finally {
      this.owner = prev;
    }
  }

  /** A new phase starts: its peak starts at what is live now (what it inherits counts against it). */
  enter(phase: GpuMemoryPhase): void {
    this.phase = phase;
    this.phases.set(phase, { peak: this.total.live, owners: { ort: this.owners.ort.live, kernels: this.owners.kernels.live } });
  }

  get liveBytes(): number {
    return this.total.live;
  }

  get peakBytes(): number {
    return this.total.peak;
  }

  report(): GpuMemoryReport {
    const phases: GpuMemoryReport['phases'] = {};
    for (const [name, p] of this.phases) phases[name] = { peakBytes: p.peak, ort: p.owners.ort, kernels: p.owners.kernels };
    return {
      liveBytes: this.total.live,
      peakBytes: this.total.peak,
      buffers: this.buffers,
      owners: { ort: { liveBytes: this.owners.ort.live, peakBytes: this.owners.ort.peak }, kernels: { liveBytes: this.owners.kernels.live, peakBytes: this.owners.kernels.peak } },
      phases,
    };
  }

  private track(buffer: { destroy(): void }, bytes: number): void {
    const owner = this.owner;
    const entry = { bytes, owner };
    this.sizes.set(buffer, entry);
    this.collected?.register(buffer, entry, entry);
    this.add(owner, bytes);
    this.buffers++;
    const destroy = buffer.destroy.bind(buffer);
    const self = this;
    buffer.destroy = function () {
      const s = self.sizes.get(buffer);
      // destroy() may be called twice; only the first one frees.
      if (s) {
        self.sizes.delete(buffer);
        self.collected?.unregister(s);
        self.release(s);
      }
      destroy();
    };
  }

  private release(s: { bytes: number; owner: GpuMemoryOwner }): void {
    this.add(s.owner, -s.bytes);
    this.buffers--;
  }

  private add(owner: GpuMemoryOwner, bytes: number): void {
    const t = this.total;
    const o = this.owners[owner];
    t.live += bytes;
    o.live += bytes;
    t.peak = Math.max(t.peak, t.live);
    o.peak = Math.max(o.peak, o.live);
    const p = this.phases.get(this.phase)!;
    // Per phase: the highest total, and each owner's share at its own highest.
    p.peak = Math.max(p.peak, t.live);
    p.owners[owner] = Math.max(p.owners[owner], o.live);
  }
}
