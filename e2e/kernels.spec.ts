// The engine's WGSL kernels (CFG + sampler update, linear combos, frame extraction, RGBA) must
// compute what the CPU reference computes, on real WebGPU (SwiftShader here).
import { expect, test } from '@playwright/test';
import { bundleForPage } from './support/bundle.ts';
import { openOrtPage } from './support/ort-page.ts';

test('WGSL kernels match the CPU reference device', async ({ page }) => {
  await openOrtPage(page, {});
  await page.addScriptTag({ content: bundleForPage('e2e/support/kernels-entry.ts', 'Kernels') });
  const result = await page.evaluate(async () => {
    const K = (globalThis as unknown as { Kernels: typeof import('./support/kernels-entry.ts') }).Kernels;
    const adapter = await navigator.gpu.requestAdapter();
    const gpuDev = await adapter!.requestDevice();
    const fakeOrt = { Tensor: class {} } as never;
    const cpu = new K.CpuDevice(fakeOrt);
    const gpu = new K.WebGpuDevice(gpuDev, fakeOrt);
    let seed = 1;
    const rand = (n: number) => Float32Array.from({ length: n }, () => ((seed = (seed * 16807) % 2147483647) / 2147483647) * 4 - 2);
    const dims = [1, 4, 3, 5, 7];
    const n = 4 * 3 * 5 * 7;
    const errs: Record<string, number> = {};
    // max |a−b| relative to max(1, max|a|): float32 rounding differs by an ulp or so between CPU and GPU.
    const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => { let m = 0; let r = 1; for (let i = 0; i < a.length; i++) { m = Math.max(m, Math.abs(a[i]! - b[i]!)); r = Math.max(r, Math.abs(a[i]!)); } return m / r; };
    const both = (fill: Float32Array, d = dims) => { const c = cpu.alloc(d); const g = gpu.alloc(d); cpu.upload(c, fill); gpu.upload(g, fill); return [c, g] as const; };
    const [xc, xg] = both(rand(n));
    const [ec, eg] = both(rand(2 * n), [2, ...dims.slice(1)]);
    const [zc, zg] = both(rand(n));
    const k = { g: 7.5, a: 0.9, b: -0.3, c: 0.2 };
    cpu.guidedUpdate(xc, xc, ec, zc, k); gpu.guidedUpdate(xg, xg, eg, zg, k);
    errs.guidedUpdate = maxDiff(await cpu.read(xc), await gpu.read(xg));
    cpu.guidedUpdate(xc, xc, ec, null, k); gpu.guidedUpdate(xg, xg, eg, null, k);
    errs.guidedUpdateNoNoise = maxDiff(await cpu.read(xc), await gpu.read(xg));
    const [oc, og] = both(new Float32Array(2 * n), [2, ...dims.slice(1)]);
    cpu.duplicate(oc, xc, 0.7); gpu.duplicate(og, xg, 0.7);
    errs.duplicate = maxDiff(await cpu.read(oc), await gpu.read(og));
    const [lc, lg] = both(rand(n));
    cpu.linear(lc, [[xc, 0.5], [zc, -1.5], [lc, 2]]); gpu.linear(lg, [[xg, 0.5], [zg, -1.5], [lg, 2]]);
    errs.linearInPlace = maxDiff(await cpu.read(lc), await gpu.read(lg));
    const [mc, mg] = both(new Float32Array(n));
    cpu.linear(mc, [[xc, 0.25], [zc, 3]]); gpu.linear(mg, [[xg, 0.25], [zg, 3]]);
    errs.linearOut = maxDiff(await cpu.read(mc), await gpu.read(mg));
    const [fc, fg] = both(new Float32Array(4 * 35), [1, 4, 5, 7]);
    cpu.extractFrame(fc, xc, 2, 1 / 0.18215); gpu.extractFrame(fg, xg, 2, 1 / 0.18215);
    errs.extractFrame = maxDiff(await cpu.read(fc), await gpu.read(fg));
    const [ic, ig] = both(rand(3 * 35), [1, 3, 5, 7]);
    { const a = await cpu.toRgba(ic); const b = await gpu.toRgba(ig); let m = 0; for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!)); errs.toRgba = m; }
    { const a = await cpu.toRgba(ic, 'truncate'); const b = await gpu.toRgba(ig, 'truncate'); let m = 0; for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!)); errs.toRgbaTruncate = m; }
    // crop: frames 1..2, rows 1..3, cols 2..5 of x [1,4,3,5,7], scaled.
    const [cc, cg] = both(new Float32Array(4 * 2 * 3 * 4), [1, 4, 2, 3, 4]);
    cpu.crop(cc, xc, { f0: 1, y0: 1, x0: 2 }, 0.5); gpu.crop(cg, xg, { f0: 1, y0: 1, x0: 2 }, 0.5);
    errs.crop = maxDiff(await cpu.read(cc), await gpu.read(cg));
    // accumulateTile: CFG-combine the halves of a [2,4,2,3,4] tile with weights into x at (1,1,2), and plain (b = null).
    const [tc, tg] = both(rand(2 * 4 * 2 * 3 * 4), [2, 4, 2, 3, 4]);
    const [wc, wg] = both(rand(12), [3, 4]);
    const half = 4 * 2 * 3 * 4;
    cpu.accumulateTile(xc, { a: tc, aOff: 0, b: tc, bOff: half, g: 7.5, weights: wc, dims: [1, 4, 2, 3, 4] }, { f0: 1, y0: 1, x0: 2 });
    gpu.accumulateTile(xg, { a: tg, aOff: 0, b: tg, bOff: half, g: 7.5, weights: wg, dims: [1, 4, 2, 3, 4] }, { f0: 1, y0: 1, x0: 2 });
    errs.accumulateTileCfg = maxDiff(await cpu.read(xc), await gpu.read(xg));
    cpu.accumulateTile(fc, { a: cc, weights: wc, dims: [1, 4, 1, 3, 4] }, { y0: 2, x0: 3 });
    gpu.accumulateTile(fg, { a: cg, weights: wg, dims: [1, 4, 1, 3, 4] }, { y0: 2, x0: 3 });
    errs.accumulateTileImage = maxDiff(await cpu.read(fc), await gpu.read(fg));
    const live = gpu.liveBuffers;
    gpu.dispose();
    return { errs, live, after: gpu.liveBuffers };
  });
  console.log('kernel max |gpu − cpu| / max(1,|cpu|) (toRgba: absolute, in levels):', result.errs);
  for (const [name, e] of Object.entries(result.errs)) expect(e, name).toBeLessThanOrEqual(name.startsWith('toRgba') ? 1 : 1e-6);
  expect(result.live).toBeGreaterThan(0);
  expect(result.after).toBe(0);
});

test('seeded noise in the browser equals Node bit for bit', async ({ page }) => {
  const { gaussianNoise } = await import('../src/engine/noise.ts');
  await openOrtPage(page, {});
  await page.addScriptTag({ content: bundleForPage('e2e/support/kernels-entry.ts', 'Kernels') });
  const inPage = await page.evaluate(() => {
    const K = (globalThis as unknown as { Kernels: typeof import('./support/kernels-entry.ts') }).Kernels;
    return Array.from(K.gaussianNoise(1234, 5, 4096));
  });
  expect(inPage).toEqual(Array.from(gaussianNoise(1234, 5, 4096)));
});
