// npm run eval:nano -- [options]
// Does the demo model draw what it is asked for? Fixed prompts × seeds (src/nano/vocabulary.ts) run
// through the app's engine in Node; each decoded video (frames straight from the engine, not through
// an MP4) is read by src/nano/classify.ts and compared with the prompt. Reports accuracy per attribute
// for the base video, and after interpolation / super-resolution what they keep of what base got right.
import { resolve } from 'node:path';
import { runCli, UsageError } from '../convert/cli/cli-util.ts';
import type { RgbaFrame } from '../engine/types.ts';
import { checkInterpolation, checkSuperResolution, readVideo, type InterpCheck, type VideoReading, type VsrCheck } from '../nano/classify.ts';
import { nanoEvalScenes, nanoPrompt, type NanoScene } from '../nano/vocabulary.ts';
import { SAMPLERS, validateRequest, withDefaults, type GenerateRequest, type SamplerName } from '../protocol.ts';
import { defaultPackDir, generateFrames, loadNodeEngine } from './node-engine.ts';

export const USAGE = `usage: npm run eval:nano -- [options]

Generates a fixed set of LaVie-nano prompts (every colour, shape, motion and background of the
training data; src/nano/vocabulary.ts) and checks what each video shows: the object's colour, its
shape, the direction of its motion, the background; after interpolation that the motion stays
monotonic and smooth with no new objects; after super-resolution that colour and position are kept
and edges are sharper than bicubic upsampling of the base frames.

  --pack <dir>       model pack (default: the app's built-in pack, as npm run generate)
  --scenes <n>       how many of the fixed scenes (default 24: each value at least 4 times)
  --seeds <n>        seeds per scene, 1000, 1001, … (default 1)
  --steps <n>        base denoising steps (default: the pack's)
  --sampler <s>      ${SAMPLERS.join(' | ')} (default: the pack's)
  --stages <s>       base | base+interp | base+vsr | all (default: every stage the pack has)
  --json             print the whole result as JSON on stdout instead of the table
  --check            exit 2 when a target is missed (base ≥ 90 % per attribute; later stages keep ≥ 90 %)
  --threads <n>      onnxruntime CPU threads (default: all cores)
  -h, --help         print this help

Super-resolution is checked on the base video (request base+vsr), interpolation on base+interp.`;

const ATTRS = ['color', 'shape', 'motion', 'background'] as const;
type Attr = (typeof ATTRS)[number];
export const TARGET = 0.9;

interface StageResult { reading: Omit<VideoReading, 'track'>; correct: Record<Attr, boolean> }
interface SceneResult {
  scene: NanoScene;
  seed: number;
  prompt: string;
  base: StageResult;
  interp?: StageResult & { check: InterpCheck };
  vsr?: StageResult & { check: VsrCheck };
}

const rate = (xs: boolean[]) => (xs.length ? xs.filter(Boolean).length / xs.length : NaN);

function judge(frames: readonly RgbaFrame[], scene: NanoScene): StageResult & { full: VideoReading } {
  const full = readVideo(frames);
  const { track: _track, ...reading } = full;
  return { reading, full, correct: Object.fromEntries(ATTRS.map((a) => [a, full[a] === scene[a]])) as Record<Attr, boolean> };
}

export interface Summary {
  base: Record<Attr, number>;
  interp?: { accuracy: Record<Attr, number>; kept: Record<Attr, number>; monotonic: number; smooth: number; noNewObjects: number };
  vsr?: { accuracy: Record<Attr, number>; kept: Record<Attr, number>; colorKept: number; positionKept: number; sharperThanBicubic: number };
  targetsMet: boolean;
}

export function summarize(results: readonly SceneResult[]): Summary {
  const acc = (pick: (r: SceneResult) => StageResult | undefined) => Object.fromEntries(ATTRS.map((a) => [a, rate(results.flatMap((r) => (pick(r) ? [pick(r)!.correct[a]] : [])))])) as Record<Attr, number>;
  // Of the videos whose base reading was right, the share the later stage still reads right.
  const kept = (pick: (r: SceneResult) => StageResult | undefined) => Object.fromEntries(ATTRS.map((a) => [a, rate(results.flatMap((r) => (pick(r) && r.base.correct[a] ? [pick(r)!.correct[a]] : [])))])) as Record<Attr, number>;
  const base = acc((r) => r.base);
  const s: Summary = { base, targetsMet: ATTRS.every((a) => base[a] >= TARGET) };
  if (results.some((r) => r.interp)) {
    const c = results.flatMap((r) => (r.interp ? [r.interp.check] : []));
    s.interp = { accuracy: acc((r) => r.interp), kept: kept((r) => r.interp), monotonic: rate(c.map((x) => x.monotonic)), smooth: rate(c.map((x) => x.smooth)), noNewObjects: rate(c.map((x) => x.noNewObjects)) };
    s.targetsMet &&= ATTRS.every((a) => !(s.interp!.kept[a] < TARGET)) && [s.interp.monotonic, s.interp.smooth, s.interp.noNewObjects].every((x) => x >= TARGET);
  }
  if (results.some((r) => r.vsr)) {
    const c = results.flatMap((r) => (r.vsr ? [r.vsr.check] : []));
    s.vsr = { accuracy: acc((r) => r.vsr), kept: kept((r) => r.vsr), colorKept: rate(c.map((x) => x.colorKept)), positionKept: rate(c.map((x) => x.positionKept)), sharperThanBicubic: rate(c.map((x) => x.sharperThanBicubic)) };
    s.targetsMet &&= ATTRS.every((a) => !(s.vsr!.kept[a] < TARGET)) && [s.vsr.colorKept, s.vsr.positionKept, s.vsr.sharperThanBicubic].every((x) => x >= TARGET);
  }
  return s;
}

const pct = (x: number) => (Number.isNaN(x) ? '   –' : `${Math.round(100 * x).toString().padStart(3)} %`);

export function table(s: Summary, n: number): string {
  const lines = [`${n} videos; accuracy per attribute (kept: of the videos base read right, the share still right after the stage)`, ''];
  lines.push(`| stage | colour | shape | motion | background | checks |`, `|---|---|---|---|---|---|`);
  lines.push(`| base | ${ATTRS.map((a) => pct(s.base[a])).join(' | ')} | |`);
  if (s.interp) lines.push(`| interpolation (kept) | ${ATTRS.map((a) => pct(s.interp!.kept[a])).join(' | ')} | monotonic ${pct(s.interp.monotonic)}, smooth ${pct(s.interp.smooth)}, no new objects ${pct(s.interp.noNewObjects)} |`);
  if (s.vsr) lines.push(`| super-resolution (kept) | ${ATTRS.map((a) => pct(s.vsr!.kept[a])).join(' | ')} | colour kept ${pct(s.vsr.colorKept)}, position kept ${pct(s.vsr.positionKept)}, sharper than bicubic ${pct(s.vsr.sharperThanBicubic)} |`);
  lines.push('', `targets (base ≥ ${TARGET * 100} % per attribute; interpolation and super-resolution keep ≥ ${TARGET * 100} %, checks ≥ ${TARGET * 100} %): ${s.targetsMet ? 'met' : 'NOT met'}`);
  return lines.join('\n');
}

const count = (v: string | undefined, flag: string, dflt: number) => {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`${flag} must be a positive whole number`);
  return n;
};

async function main(o: Record<string, string>): Promise<void> {
  const stages = o.stages;
  if (stages !== undefined && !['base', 'base+interp', 'base+vsr', 'all'].includes(stages)) throw new UsageError('--stages must be one of base, base+interp, base+vsr, all');
  const scenes = nanoEvalScenes(count(o.scenes, '--scenes', 24));
  const seeds = count(o.seeds, '--seeds', 1);
  const packDir = resolve(o.pack ?? defaultPackDir());
  const engine = await loadNodeEngine(packDir, o.threads ? count(o.threads, '--threads', 1) : undefined);
  const offer = engine.pack.stages;
  const wantInterp = stages ? stages === 'all' || stages === 'base+interp' : !!offer.interp;
  const wantVsr = stages ? stages === 'all' || stages === 'base+vsr' : !!offer.vsr;
  if ((wantInterp && !offer.interp) || (wantVsr && !offer.vsr)) throw new UsageError(`the pack in ${packDir} does not offer --stages ${stages}`);
  process.stderr.write(`${engine.pack.name}${engine.pack.testWeights ? ' — test weights: output is noise, expect chance-level accuracy' : ''}; ${scenes.length} scenes × ${seeds} seeds\n`);
  const results: SceneResult[] = [];
  try {
    for (const scene of scenes) {
      for (let k = 0; k < seeds; k++) {
        const seed = 1000 + k;
        const prompt = nanoPrompt(scene);
        const req = (extra: Partial<GenerateRequest>): GenerateRequest => {
          const r: GenerateRequest = { id: 'eval', ...withDefaults({ prompt, seed, ...(o.steps ? { steps: Number(o.steps) } : {}), ...(o.sampler ? { sampler: o.sampler as SamplerName } : {}), ...extra }, engine.pack.defaults) };
          const bad = validateRequest(r, engine.pack);
          if (bad) throw bad;
          return r;
        };
        const first = await generateFrames(engine, req(wantInterp ? { interpolate: true } : {}));
        const base = judge(first[0]!.frames, scene);
        const res: SceneResult = { scene, seed, prompt, base: { reading: base.reading, correct: base.correct } };
        if (wantInterp) {
          const it = judge(first[1]!.frames, scene);
          res.interp = { reading: it.reading, correct: it.correct, check: checkInterpolation(it.full, first[1]!.frames[0]!, base.full.maxObjects) };
        }
        if (wantVsr) {
          const run = await generateFrames(engine, req({ superResolve: true }));
          const v = judge(run[1]!.frames, scene);
          res.vsr = { reading: v.reading, correct: v.correct, check: checkSuperResolution(run[0]!.frames, run[1]!.frames, base.full, v.full) };
        }
        results.push(res);
        const marks = (r: StageResult) => ATTRS.map((a) => (r.correct[a] ? '✓' : '✗')).join('');
        process.stderr.write(`[${results.length}/${scenes.length * seeds}] ${prompt} (seed ${seed}): base ${marks(res.base)}${res.interp ? ` interp ${marks(res.interp)}` : ''}${res.vsr ? ` vsr ${marks(res.vsr)}` : ''}  (read: ${res.base.reading.color ?? '?'} ${res.base.reading.shape ?? '?'} ${res.base.reading.motion ?? '?'} on ${res.base.reading.background})\n`);
      }
    }
  } finally {
    await engine.dispose();
  }
  const summary = summarize(results);
  if (o.json) process.stdout.write(`${JSON.stringify({ pack: { dir: packDir, name: engine.pack.name, testWeights: engine.pack.testWeights }, summary, results }, null, 1)}\n`);
  else process.stdout.write(`${engine.pack.name}${engine.pack.testWeights ? ' (test weights)' : ''}: ${table(summary, results.length)}\n`);
  if (o.check && !summary.targetsMet) process.exit(2);
}

if (process.argv[1] && resolve(process.argv[1]).endsWith('eval-nano.ts')) {
  runCli({ usage: USAGE, options: ['pack', 'scenes', 'seeds', 'steps', 'sampler', 'stages', 'threads'], switches: ['json', 'check'] }, ({ opts }) => main(opts));
}
