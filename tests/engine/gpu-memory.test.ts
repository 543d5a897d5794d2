// The GPU memory counter on a fake device: live/peak bytes by owner and phase, destroy() twice,
// and that it wraps the very object handed on (ORT calls createBuffer on it).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GpuMemoryCounter, type BufferFactory } from '../../src/engine/runtime/gpu-memory.ts';

class FakeBuffer {
  destroyed = 0;
  constructor(readonly size: number) {}
  destroy(): void {
    this.destroyed++;
  }
}
const fakeDevice = () => ({ created: 0, createBuffer(desc: { size: number }) { this.created++; return new FakeBuffer(desc.size); } }) satisfies BufferFactory & { created: number };

test('live and peak bytes by owner and phase', () => {
  const m = new GpuMemoryCounter();
  const dev = m.install(fakeDevice());
  // load: ORT weights 1000, our dummy 16
  const w = dev.createBuffer({ size: 1000 });
  const k0 = m.as('kernels', () => dev.createBuffer({ size: 16 }));
  assert.equal(dev.created, 2);
  m.enter('base');
  const a = m.as('kernels', () => dev.createBuffer({ size: 300 }));
  const act = dev.createBuffer({ size: 500 });
  act.destroy();
  act.destroy(); // twice: freed once
  assert.equal((act as FakeBuffer).destroyed, 2);
  a.destroy();
  m.enter('vsr');
  const v = dev.createBuffer({ size: 200 });
  const r = m.report();
  assert.equal(r.liveBytes, 1000 + 16 + 200);
  assert.equal(r.peakBytes, 1000 + 16 + 300 + 500);
  assert.equal(r.buffers, 3);
  assert.deepEqual(r.owners, { ort: { liveBytes: 1200, peakBytes: 1500 }, kernels: { liveBytes: 16, peakBytes: 316 } });
  assert.deepEqual(r.phases.load, { peakBytes: 1016, ort: 1000, kernels: 16 });
  assert.deepEqual(r.phases.base, { peakBytes: 1816, ort: 1500, kernels: 316 });
  // A phase starts from what it inherits.
  assert.deepEqual(r.phases.vsr, { peakBytes: 1216, ort: 1200, kernels: 16 });
  for (const b of [w, k0, v]) b.destroy();
  assert.equal(m.report().liveBytes, 0);
  assert.equal(m.report().buffers, 0);
  assert.equal(m.peakBytes, 1816);
});

test('an owner override ends even when the allocation throws', () => {
  const m = new GpuMemoryCounter();
  const dev = m.install({ createBuffer(desc: { size: number }): FakeBuffer { if (desc.size > 100) throw new RangeError('too big'); return new FakeBuffer(desc.size); } });
  assert.throws(() => m.as('kernels', () => dev.createBuffer({ size: 1000 })), RangeError);
  dev.createBuffer({ size: 10 });
  assert.deepEqual(m.report().owners, { ort: { liveBytes: 10, peakBytes: 10 }, kernels: { liveBytes: 0, peakBytes: 0 } });
});
