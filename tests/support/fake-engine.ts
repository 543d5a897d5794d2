// A stand-in GenerationEngine for the worker host's Node tests and the UI's browser tests: honours
// the real contract (a stage plan, stages announced in order, progress, preview, frames in order,
// AbortSignal), deterministic per seed, fast. Behaviour is chosen by the pack URL, e.g.
// `/?pack=fake:?stepMs=300&fail=gpu-oom&failAt=2`, `fake:?loadFail=no-webgpu`, `fake:?interp=1`
// (offers an interpolation stage: 4·16 − 3 frames at 24 fps), `fake:?vsr=1` (super-resolution: ×4),
// `fake:?stallPhase=decode&stallMs=8000`, `fake:?firstStepMs=2000&frameMs=50`, `fake:?about=nano`,
// `fake:?lengths=16,24,32` (long base videos of those lengths: steps and decoding linear in frames;
// interpolation of a long video in 16-frame segments with one denoising step each, as progress names them).
import { BadRequestError, LaVieError, interpolatedFrames, requestFrames, stagesOf, type ErrorCode, type GenerateRequest, type PackInfo, type PackRef, type StageVideo } from '../../src/protocol.ts';
import type { GenerateHooks, GenerationEngine, GenerationResult, StagePlan } from '../../src/engine/types.ts';
import { mulberry32 } from '../../src/convert/prng.ts';
import { NANO_EXAMPLE_PROMPTS, NANO_PACK_DESCRIPTION } from '../../src/nano/vocabulary.ts';

function options(pack: PackRef): URLSearchParams {
  if (pack.kind !== 'url') return new URLSearchParams();
  const q = pack.baseUrl.indexOf('?');
  return new URLSearchParams(q >= 0 ? pack.baseUrl.slice(q + 1) : '');
}


const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const t = setTimeout(() => { signal.removeEventListener('abort', onAbort); resolve(); }, ms);
    const onAbort = () => { clearTimeout(t); reject(signal.reason); };
    signal.addEventListener('abort', onAbort, { once: true });
  });

/** The fake's work per stage as the real plan states it (units of one 16-frame step): it denoises in
 * the base stage (linear in its frames) and, for a long video, once per interpolation segment. */
function fakeWork(steps: number, frames: number) {
  const work = { ...(steps ? { denoise: steps } : {}), decode: frames / 4 };
  return { work, cost: steps + work.decode };
}

/** Interpolation segments of a long base video (as interpSegments: 16 frames, starts 15 apart). */
const fakeSegments = (base: number) => (base > 16 ? Math.ceil((base - 1) / 15) : 0);

/** Engines created in this worker so far (`failEngines=N`: only the first N inject faults). */
let created = 0;

export async function createFakeEngine(ref: PackRef): Promise<GenerationEngine> {
  const o = options(ref);
  const serial = ++created;
  // `reloadFail=<code>`: only loads after the first fail (with `loseAfterMs=N` the first engine's GPU
  // is "lost" N ms after loading, the host reloads the pack, and that reload fails: the model is gone).
  const loadFail = ((serial > 1 ? o.get('reloadFail') : null) ?? o.get('loadFail')) as ErrorCode | null;
  const loseAfterMs = o.get('loseAfterMs');
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
  // `stallPhase=decode&stallMs=8000`: the last frame of that phase hangs (a stalled phase, for the ETA).
  const stallPhase = o.get('stallPhase');
  const stallMs = Number(o.get('stallMs') ?? 0);
  // Timing shaped like the real engine's: `firstStepMs` (shader warm-up), `frameMs` per decoded frame.
  const firstStepMs = Number(o.get('firstStepMs') ?? stepMs);
  const frameMs = Number(o.get('frameMs') ?? 0);
  let broken = false;
  const pack: PackInfo = {
    name: 'fake-test-pack',
    bytes: 12_345_678,
    // `about=nano`: the LaVie-nano demo pack's manifest label and example prompts (trained weights).
    testWeights: o.get('about') !== 'nano',
    ...(o.get('about') === 'nano' ? { about: { description: NANO_PACK_DESCRIPTION, examplePrompts: [...NANO_EXAMPLE_PROMPTS] } } : {}),
    width,
    height,
    frames: 16,
    fps: 8,
    defaults: { steps: 6, guidanceScale: 7.5, sampler: 'ddim' },
    device: 'fake',
    compute: 'fp32',
    stages: {
      ...(o.get('interp') ? { interp: { frames: 61, width, height, fps: 24 } } : {}),
      ...(o.get('vsr') ? { vsr: { frames: 16, width: 4 * width, height: 4 * height, fps: 8, scale: 4, tiles: 1, steps: 1, stepCost: 2 } } : {}),
    },
    // GPU peaks per LaVie option, like the real engine's estimate (3 GB base, 5 GB with interpolation).
    memory: [{ option: 1, peakBytes: 3e9 }, ...(o.get('interp') ? [{ option: 2 as const, peakBytes: 5e9 }] : [])],
    ...(o.get('lengths') ? { lengths: o.get('lengths')!.split(',').map(Number) } : {}),
  };
  const plan = (req: GenerateRequest): StagePlan[] => {
    let input: StageVideo = pack;
    return stagesOf(req).map((stage) => {
      const offered: StageVideo | undefined = stage === 'base' ? pack : pack.stages[stage];
      if (!offered) throw new BadRequestError(`The fake pack has no ${stage} stage.`);
      const base = requestFrames(req);
      if (stage === 'base' && !(pack.lengths ?? [16]).includes(base)) throw new BadRequestError(`The fake pack makes no ${base}-frame video.`, 'frames');
      // Like the real stages: VSR ×4 of its input keeping frames and fps; interpolation 4·F − 3 frames.
      const video = stage === 'vsr' ? { frames: input.frames, width: 4 * input.width, height: 4 * input.height, fps: input.fps }
        : stage === 'interp' ? { frames: interpolatedFrames(input.frames), width: offered.width, height: offered.height, fps: offered.fps }
        : { frames: base, width: offered.width, height: offered.height, fps: offered.fps };
      const steps = stage === 'base' ? (req.steps * base) / 16 : stage === 'interp' ? fakeSegments(input.frames) : 0;
      input = video;
      return { stage, video, ...fakeWork(steps, video.frames) };
    });
  };

  return {
    pack,
    plan,
    async generate(req: GenerateRequest, hooks: GenerateHooks): Promise<GenerationResult> {
      const { signal } = hooks;
      const stages = plan(req);
      const t0 = performance.now();
      const r = mulberry32(req.seed);
      // Per-seed video parameters (the "latents").
      const phase = r() * Math.PI * 2;
      const hue = [r(), r(), r()];
      for (const [i, { stage, video }] of stages.entries()) {
        const progress = (p: { phase: 'text' | 'denoise' | 'decode'; step: number; total: number; segment?: number; segments?: number }) =>
          hooks.onProgress({ ...p, stage, stageIndex: i + 1, stageCount: stages.length, elapsedMs: performance.now() - t0 });
        await hooks.onStageStart?.(stage, video);
        if (stage === 'base') {
          progress({ phase: 'text', step: 0, total: 1 });
          await sleep(stepMs, signal);
          progress({ phase: 'text', step: 1, total: 1 });
          for (let k = 1; k <= req.steps; k++) {
            await sleep(((k === 1 ? firstStepMs : stepMs) * video.frames) / 16, signal);
            if (fail === 'gpu-oom' || fail === 'device-lost' || fail === 'internal') {
              if (k === failAt || (broken && failEngines !== null)) {
                broken = true;
                if (fail === 'internal') throw new TypeError('fake engine: something unexpected');
                throw new LaVieError(fail, `fake engine: ${fail} at step ${k}`);
              }
            }
            progress({ phase: 'denoise', step: k, total: req.steps });
            const pw = 32;
            const ph = 20;
            const rgba = new Uint8ClampedArray(pw * ph * 4);
            for (let j = 0; j < pw * ph; j++) {
              rgba[4 * j] = 255 * hue[0]! * (k / req.steps);
              rgba[4 * j + 1] = ((j % pw) / pw) * 255;
              rgba[4 * j + 2] = (Math.floor(j / pw) / ph) * 255;
              rgba[4 * j + 3] = 255;
            }
            hooks.onPreview?.({ step: k, width: pw, height: ph, rgba });
          }
        }
        // A long video's interpolation: one step per 16-frame segment, named in the progress.
        const segments = stage === 'interp' ? fakeSegments(stages[i - 1]!.video.frames) : 0;
        for (let k = 1; k <= segments; k++) {
          await sleep(stepMs, signal);
          progress({ phase: 'denoise', step: k, total: segments, segment: k, segments });
        }
        for (let f = 0; f < video.frames; f++) {
          if (signal.aborted) throw signal.reason;
          progress({ phase: 'decode', step: f, total: video.frames });
          if (stallPhase === 'decode' && f === video.frames - 1) await sleep(stallMs, signal);
          if (frameMs) await sleep(frameMs, signal);
          const t = (f * 16) / video.frames; // the same motion over every stage's length
          const rgba = new Uint8Array(video.width * video.height * 4);
          for (let y = 0; y < video.height; y++) {
            for (let x = 0; x < video.width; x++) {
              const o4 = 4 * (y * video.width + x);
              const v = Math.sin(x / 9 + phase + t / 3) * 0.5 + 0.5;
              const w = Math.cos(y / 7 - phase + t / 5) * 0.5 + 0.5;
              rgba[o4] = 30 + 200 * v * hue[0]!;
              rgba[o4 + 1] = 30 + 200 * w * hue[1]!;
              rgba[o4 + 2] = 30 + 200 * ((v + w) / 2) * hue[2]!;
              rgba[o4 + 3] = 255;
            }
          }
          await hooks.onFrame({ index: f, width: video.width, height: video.height, rgba });
        }
        progress({ phase: 'decode', step: video.frames, total: video.frames });
        await hooks.onStageEnd?.(stage);
      }
      return stages[stages.length - 1]!.video;
    },
    // One token per word (CLIP gives plain English words one token each).
    countTokens: (text: string) => text.split(/\s+/).filter(Boolean).length,
    ...(loseAfterMs !== null && serial === 1 ? { lost: new Promise((r) => setTimeout(r, Number(loseAfterMs))) } : {}),
    async dispose() {},
  };
}
