// Is there WebGPU in this Chromium? Lists the adapter's features and limits (saved to
// e2e-artifacts/webgpu-adapter.json) and runs one tiny compute shader.
import { writeFileSync } from 'node:fs';
import { expect, test } from '@playwright/test';
import { ARTIFACTS, openBlankPage } from './support/pages.ts';

test('navigator.gpu gives an adapter and a device that computes', async ({ page }) => {
  await openBlankPage(page);
  const r = await page.evaluate(async () => {
    if (!('gpu' in navigator)) return { ok: false as const, why: 'navigator.gpu is undefined' };
    const adapter = await navigator.gpu.requestAdapter();
    if (!adapter) return { ok: false as const, why: 'requestAdapter() returned null' };
    const limits: Record<string, number> = {};
    for (const k in adapter.limits) limits[k] = (adapter.limits as unknown as Record<string, number>)[k]!;
    const features = [...adapter.features].sort();
    const device = await adapter.requestDevice();
    // out[i] = in[i] * 2 + 1
    const n = 1024;
    const module = device.createShaderModule({ code: `
      @group(0) @binding(0) var<storage, read> src: array<f32>;
      @group(0) @binding(1) var<storage, read_write> dst: array<f32>;
      @compute @workgroup_size(64) fn main(@builtin(global_invocation_id) id: vec3u) {
        if (id.x < arrayLength(&src)) { dst[id.x] = src[id.x] * 2.0 + 1.0; }
      }` });
    const pipeline = device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'main' } });
    const src = device.createBuffer({ size: n * 4, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST });
    const dst = device.createBuffer({ size: n * 4, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC });
    const read = device.createBuffer({ size: n * 4, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    device.queue.writeBuffer(src, 0, Float32Array.from({ length: n }, (_, i) => i));
    const bind = device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries: [{ binding: 0, resource: { buffer: src } }, { binding: 1, resource: { buffer: dst } }] });
    const enc = device.createCommandEncoder();
    const pass = enc.beginComputePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bind);
    pass.dispatchWorkgroups(n / 64);
    pass.end();
    enc.copyBufferToBuffer(dst, 0, read, 0, n * 4);
    device.queue.submit([enc.finish()]);
    await read.mapAsync(GPUMapMode.READ);
    const out = new Float32Array(read.getMappedRange().slice(0));
    read.unmap();
    let wrong = 0;
    for (let i = 0; i < n; i++) if (out[i] !== i * 2 + 1) wrong++;
    device.destroy();
    return {
      ok: true as const,
      info: { vendor: adapter.info.vendor, architecture: adapter.info.architecture, device: adapter.info.device, description: adapter.info.description },
      features,
      limits,
      wrong,
      crossOriginIsolated,
      userAgent: navigator.userAgent,
    };
  });
  writeFileSync(`${ARTIFACTS}/webgpu-adapter.json`, JSON.stringify(r, null, 2));
  if (!r.ok) throw new Error(`no WebGPU: ${r.why} (Chromium needs --enable-unsafe-webgpu here)`);
  console.log('adapter:', r.info, '\nfeatures:', r.features.join(', '), '\nshader-f16:', r.features.includes('shader-f16'),
    '\nmaxBufferSize:', r.limits.maxBufferSize, 'maxStorageBufferBindingSize:', r.limits.maxStorageBufferBindingSize,
    'maxComputeWorkgroupStorageSize:', r.limits.maxComputeWorkgroupStorageSize, 'maxComputeInvocationsPerWorkgroup:', r.limits.maxComputeInvocationsPerWorkgroup);
  expect(r.wrong).toBe(0);
  // The engine asks for the adapter's full buffer limits; below 256 MiB even the tiny pipeline is cramped.
  expect(r.limits.maxBufferSize).toBeGreaterThanOrEqual(256 * 2 ** 20);
  expect(r.limits.maxStorageBufferBindingSize).toBeGreaterThanOrEqual(128 * 2 ** 20);
});
