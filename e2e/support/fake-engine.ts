// A stand-in GenerationEngine for UI tests: honours the real contract (progress, preview, frames in
// order, AbortSignal), deterministic per seed, fast. Behaviour is chosen by the pack URL the app is
// opened with, e.g. `/?pack=fake:?stepMs=300&fail=gpu-oom&failAt=2` or `/?pack=fake:?loadFail=no-webgpu`.
import { LaVieError, type ErrorCode, type PackInfo, type PackRef } from '../../src/protocol.ts';
import type { GenerateHooks, GenerationEngine, GenerationResult } from '../../src/engine/types.ts';
import type { GenerateRequest } from '../../src/protocol.ts';

function options(pack: PackRef): URLSearchParams {
  if (pack.kind !== 'url') return new URLSearchParams();
  const q = pack.baseUrl.indexOf('?');
  return new URLSearchParams(q >= 0 ? pack.baseUrl.slice(q + 1) : '');
}

// mulberry32: a tiny seeded PRNG, so the same seed gives the same video.
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const t = setTimeout(() => { signal.removeEventListener('abort', onAbort); resolve(); }, ms);
    const onAbort = () => { clearTimeout(t); reject(signal.reason); };
    signal.addEventListener('abort', onAbort, { once: true });
  });

/** Engines created in this worker so far (`failEngines=N`: only the first N inject faults). */
let created = 0;

export async function createFakeEngine(ref: PackRef): Promise<GenerationEngine> {
  const o = options(ref);
  const serial = ++created;
  const loadFail = o.get('loadFail') as ErrorCode | null;
  await new Promise((r) => setTimeout(r, Number(o.get('loadMs') ?? 50)));
  if (loadFail) throw new LaVieError(loadFail, `fake engine: load failed with ${loadFail}`);
  const width = Number(o.get('width') ?? 128);
  const height = Number(o.get('height') ?? 80);
  const stepMs = Number(o.get('stepMs') ?? 40);
  // With failEngines=N, engines after the N-th are healthy, and a faulty engine stays broken once it
  // failed (like a GPU whose memory is exhausted): only a recreated engine works again.
  const failEngines = o.get('failEngines');
  const fail = failEngines !== null && serial > Number(failEngines) ? null : (o.get('fail') as ErrorCode | null);
  const failAt = Number(o.get('failAt') ?? 1);
  let broken = false;
  const pack: PackInfo = {
    name: 'fake-test-pack',
    bytes: 12_345_678,
    testWeights: true,
    width,
    height,
    frames: 16,
    fps: 8,
    defaults: { steps: 6, guidanceScale: 7.5, sampler: 'ddim' },
    device: 'fake',
    compute: 'fp32',
    stages: {},
  };

  return {
    pack,
    async generate(req: GenerateRequest, hooks: GenerateHooks): Promise<GenerationResult> {
      const { signal } = hooks;
      const t0 = performance.now();
      const elapsed = () => performance.now() - t0;
      hooks.onProgress({ phase: 'text', step: 0, total: 1, elapsedMs: 0 });
      await sleep(stepMs, signal);
      hooks.onProgress({ phase: 'text', step: 1, total: 1, elapsedMs: elapsed() });
      const r = rng(req.seed);
      // Per-seed video parameters (the "latents").
      const phase = r() * Math.PI * 2;
      const hue = [r(), r(), r()];
      for (let k = 1; k <= req.steps; k++) {
        await sleep(stepMs, signal);
        if (fail === 'gpu-oom' || fail === 'device-lost' || fail === 'internal') {
          if (k === failAt || (broken && failEngines !== null)) {
            broken = true;
            if (fail === 'internal') throw new TypeError('fake engine: something unexpected');
            throw new LaVieError(fail, `fake engine: ${fail} at step ${k}`);
          }
        }
        hooks.onProgress({ phase: 'denoise', step: k, total: req.steps, elapsedMs: elapsed() });
        const pw = 32;
        const ph = 20;
        const rgba = new Uint8ClampedArray(pw * ph * 4);
        for (let i = 0; i < pw * ph; i++) {
          rgba[4 * i] = 255 * hue[0]! * (k / req.steps);
          rgba[4 * i + 1] = ((i % pw) / pw) * 255;
          rgba[4 * i + 2] = (Math.floor(i / pw) / ph) * 255;
          rgba[4 * i + 3] = 255;
        }
        hooks.onPreview?.({ step: k, width: pw, height: ph, rgba });
      }
      for (let f = 0; f < pack.frames; f++) {
        if (signal.aborted) throw signal.reason;
        hooks.onProgress({ phase: 'decode', step: f, total: pack.frames, elapsedMs: elapsed() });
        const rgba = new Uint8Array(width * height * 4);
        for (let y = 0; y < height; y++) {
          for (let x = 0; x < width; x++) {
            const o4 = 4 * (y * width + x);
            const v = Math.sin(x / 9 + phase + f / 3) * 0.5 + 0.5;
            const w = Math.cos(y / 7 - phase + f / 5) * 0.5 + 0.5;
            rgba[o4] = 30 + 200 * v * hue[0]!;
            rgba[o4 + 1] = 30 + 200 * w * hue[1]!;
            rgba[o4 + 2] = 30 + 200 * ((v + w) / 2) * hue[2]!;
            rgba[o4 + 3] = 255;
          }
        }
        await hooks.onFrame({ index: f, width, height, rgba });
      }
      hooks.onProgress({ phase: 'decode', step: pack.frames, total: pack.frames, elapsedMs: elapsed() });
      return { frames: pack.frames, width, height, fps: pack.fps };
    },
    // One token per word (CLIP gives plain English words one token each).
    countTokens: (text: string) => text.split(/\s+/).filter(Boolean).length,
    async dispose() {},
  };
}
