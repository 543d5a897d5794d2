// npm run --silent generate -- --prompt "…" --out FILE.mp4 [options]
// The app's engine in Node (onnxruntime-node, CPU) for scripts and batch work: the same pack, request
// contract (src/protocol/request.ts), stage plan and frames as the browser; the MP4 is muxed by the same
// mediabunny muxer at the same frame count, size and fps. Only the H.264 payload differs (no WebCodecs
// in Node: uncompressed I_PCM macroblocks, see src/video/h264-pcm.ts).
import { writeFileSync, renameSync } from 'node:fs';
import { resolve } from 'node:path';
import { runCli, UsageError } from '../convert/cli/cli-util.ts';
import { BadRequestError, LAVIE_DEFAULTS, LIMITS, LONG_VIDEO_SAMPLER, SAMPLERS, validateRequest, withDefaults, type GenerateRequest, type ProgressInfo, type PromptSegment, type RequestBody, type SamplerName } from '../protocol.ts';
import { createPcmMp4Writer } from '../video/pcm-mp4.ts';
import { defaultPackDir, generateFrames, loadNodeEngine } from './node-engine.ts';

export const STAGE_CHOICES = { base: {}, 'base+interp': { interpolate: true }, 'base+vsr': { superResolve: true }, all: { interpolate: true, superResolve: true } } as const;

export const USAGE = `usage: npm run --silent generate -- --prompt "<text>" --out <file.mp4> [options]

Generates a video with the app's engine in Node (onnxruntime-node on the CPU) and writes it as MP4.

  --prompt <text>        what the video shows (required). Repeat it with a base-frame range each for
                         several prompts over one video: --prompt "a cat walks@0-31"
                         --prompt "a cat sits@32-63" (ranges in order, from frame 0 to the last,
                         each at least ${LIMITS.segmentFrames} frames; --frames defaults to the end of the last)
  --out <file.mp4>       output file (required); written only when the video is complete
  --negative <text>      negative prompt (default empty)
  --seed <n>             ${LIMITS.seed.min}…${LIMITS.seed.max} (default random; printed)
  --steps <n>            denoising steps of the base stage (default: the pack's)
  --guidance <x>         classifier-free guidance scale (default: the pack's)
  --sampler <s>          ${SAMPLERS.join(' | ')} (default: the pack's)
  --stages <s>           ${Object.keys(STAGE_CHOICES).join(' | ')} (default base; the pack must offer them)
  --frames <n>           base frames, ${LIMITS.frames.min}…${LIMITS.frames.max} in steps of ${LIMITS.frames.step} (long videos, FreeNoise: the
                         sampler defaults to ${LONG_VIDEO_SAMPLER}, the only one allowed; the pack needs graphs of that length)
  --pack <dir>           model pack folder (default: the app's built-in pack, public/packs/nano
                         when npm run setup built it from models/lavie-nano, else public/packs/tiny)
  --threads <n>          onnxruntime CPU threads (default: all cores)
  -h, --help             print this help

Progress goes to stderr; stdout gets one line: the file, frames, size, fps, seed.

The MP4 has the same frames, size and fps as the app's download and the same container layout
(mediabunny, fast start), but not the same encoding: without WebCodecs in Node the H.264 stream is
Constrained Baseline made only of uncompressed (I_PCM) macroblocks, BT.601 limited range — every
player decodes it, it is exact up to the RGB→YUV 4:2:0 conversion, and it is large (384 bytes per
16×16 block per frame: 16 frames at 128×80 ≈ 0.25 MB, 61 at 512×320 ≈ 15 MB). The browser encodes
compressed H.264 (or VP9/AV1) instead.`;

const number = (v: string | undefined) => (v === undefined ? undefined : v.trim() === '' ? NaN : Number(v));

/** `--prompt "text@from-to"`: the text and its inclusive base-frame range (the last "@a-b"; other
 * "@" stay in the text); null without a range. */
export function parsePromptRange(v: string): PromptSegment | null {
  const m = /^(.*)@\s*(\d+)\s*-\s*(\d+)\s*$/s.exec(v);
  return m ? { prompt: m[1]!.trim(), from: Number(m[2]), to: Number(m[3]) } : null;
}

/** The prompt fields of the --prompt values: one plain prompt, or ranges (the request's `segments`;
 * its `prompt`, which names the video, is the first range's). The ranges' rules are the contract's. */
export function promptsFromFlags(values: readonly string[]): Pick<RequestBody, 'prompt' | 'segments'> {
  if (values.length === 0) return { prompt: '' };
  const ranges = values.map(parsePromptRange);
  if (values.length === 1 && !ranges[0]) return { prompt: values[0]! };
  const i = ranges.findIndex((r) => !r);
  if (i >= 0) throw new UsageError(`--prompt "${values[i]}" has no frame range: with several prompts each needs one, e.g. --prompt "a cat walks@0-31"`);
  const segments = ranges as PromptSegment[];
  return { prompt: segments[0]!.prompt, segments };
}

/** The request body the flags describe (fields left out take the pack's defaults); no validation here.
 * `prompts`: every --prompt value, in order (default: o.prompt). */
export function bodyFromFlags(o: Record<string, string>, prompts: readonly string[] = o.prompt === undefined ? [] : [o.prompt]): Partial<RequestBody> & { prompt: string } {
  const stages = o.stages ?? 'base';
  if (!(stages in STAGE_CHOICES)) throw new UsageError(`--stages must be one of ${Object.keys(STAGE_CHOICES).join(', ')}`);
  const body: Partial<RequestBody> & { prompt: string } = { ...promptsFromFlags(prompts), ...STAGE_CHOICES[stages as keyof typeof STAGE_CHOICES] };
  if (o.negative !== undefined) body.negativePrompt = o.negative;
  const fields = { seed: 'seed', steps: 'steps', guidanceScale: 'guidance', frames: 'frames' } as const;
  for (const [field, flag] of Object.entries(fields)) {
    const n = number(o[flag]);
    if (n !== undefined) (body as Record<string, unknown>)[field] = n;
  }
  // Ranges name the length they cover unless --frames says otherwise (then the contract checks both).
  if (body.frames === undefined && body.segments) body.frames = body.segments.at(-1)!.to + 1;
  if (o.sampler !== undefined) body.sampler = o.sampler as SamplerName;
  return body;
}

const FLAG_OF: Record<string, string> = { prompt: '--prompt', negativePrompt: '--negative', seed: '--seed', steps: '--steps', guidanceScale: '--guidance', sampler: '--sampler', interpolate: '--stages', superResolve: '--stages', frames: '--frames', segments: '--prompt' };

/** The contract's message with the command-line option at fault. */
const flagged = (e: BadRequestError) => new BadRequestError(`${e.message.replace(/\.$/, '')} (${FLAG_OF[e.field ?? ''] ?? e.field}; see --help).`, e.field);

function progressLine(p: ProgressInfo): string {
  const stage = p.stage ? `${p.stage} (${p.stageIndex}/${p.stageCount}) ` : '';
  const where = p.windows ? ` window ${p.window}/${p.windows}` : p.segments ? ` segment ${p.segment}/${p.segments}` : '';
  return `${stage}${p.phase}${where} ${p.step}/${p.total}`;
}

async function main(o: Record<string, string>, prompts: readonly string[]): Promise<void> {
  if (!o.out) throw new UsageError('--out <file.mp4> is required (see --help)');
  if (prompts.length === 0) throw new UsageError('--prompt "<text>" is required (see --help)');
  const body = bodyFromFlags(o, prompts);
  // The user's own values first (no model needed); what the pack offers is checked once it is loaded.
  const early = validateRequest({ id: 'cli', ...withDefaults(body, LAVIE_DEFAULTS, () => 0) });
  if (early) throw flagged(early);
  const packDir = resolve(o.pack ?? defaultPackDir());
  const threads = number(o.threads);
  if (threads !== undefined && !(Number.isInteger(threads) && threads > 0)) throw new UsageError('--threads must be a positive whole number');
  process.stderr.write(`loading ${packDir} …\n`);
  const engine = await loadNodeEngine(packDir, threads);
  try {
    const req: GenerateRequest = { id: 'cli', ...withDefaults(body, engine.pack.defaults) };
    // The one contract the app, worker and embed use; a stage or length the pack lacks is refused here.
    const bad = validateRequest(req, engine.pack);
    if (bad) throw flagged(bad);
    const plan = engine.plan(req);
    const last = plan.at(-1)!.video;
    process.stderr.write(`${engine.pack.name}${engine.pack.testWeights ? ' (test weights: output is noise)' : ''}: ${plan.map((p) => `${p.stage} ${p.video.frames}×${p.video.width}×${p.video.height}@${p.video.fps}`).join(' → ')}, seed ${req.seed}\n`);
    const writer = await createPcmMp4Writer({ width: last.width, height: last.height, fps: last.fps });
    const tty = process.stderr.isTTY;
    let shown = '';
    await generateFrames(engine, req, {
      keep: false,
      onProgress: (p) => {
        const line = progressLine(p);
        if (line === shown) return;
        shown = line;
        process.stderr.write(tty ? `\r\x1b[K${line}` : `${line}\n`);
      },
      // Only the last stage's frames go into the file (the app also keeps each earlier stage's video).
      onStageFrame: async (s, f) => { if (s.stage === plan.at(-1)!.stage) await writer.addFrame(f.rgba, f.index); },
    });
    if (tty) process.stderr.write('\n');
    const mp4 = await writer.finish();
    const out = resolve(o.out);
    writeFileSync(`${out}.part`, mp4);
    renameSync(`${out}.part`, out);
    process.stdout.write(`${out}: ${writer.frames} frames ${last.width}×${last.height} at ${last.fps} fps, ${writer.codecString}, seed ${req.seed}\n`);
  } finally {
    await engine.dispose();
  }
}

if (process.argv[1] && resolve(process.argv[1]).endsWith('generate.ts')) {
  runCli({ usage: USAGE, options: ['negative', 'seed', 'steps', 'guidance', 'sampler', 'stages', 'frames', 'pack', 'out', 'threads'], repeatable: ['prompt'] }, ({ opts, lists }) => main(opts, lists.prompt ?? []));
}

