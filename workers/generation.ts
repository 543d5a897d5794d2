// One generation in the worker: the engine's stage plan, one video sink per stage opened before any
// GPU work (so an unsupported size fails at once), and a result per stage the moment its last frame
// is encoded.
import { LaVieError, type GenerateRequest, type Stage, type WorkerEvent } from '../src/protocol.ts';
import type { GenerationEngine, StagePlan } from '../src/engine/types.ts';
import type { VideoOutput, VideoSink } from './video-sink.ts';

const now = () => performance.now();

export async function runGeneration(engine: GenerationEngine, req: GenerateRequest, signal: AbortSignal, output: VideoOutput, emit: (ev: WorkerEvent) => void): Promise<void> {
  const { id } = req;
  const t0 = now();
  const ort0 = engine.counters?.runMs ?? 0;
  const plan = engine.plan(req);
  const sinks = new Map<Stage, { plan: StagePlan; index: number; sink: VideoSink }>();
  let current: { plan: StagePlan; index: number; sink: VideoSink } | null = null;
  const sinkOf = (stage: Stage) => sinks.get(stage) ?? (() => { throw new LaVieError('internal', `The engine ran a stage (${stage}) that was not planned.`); })();
  try {
    for (const [index, p] of plan.entries()) sinks.set(p.stage, { plan: p, index, sink: await output(p.video) });
    await engine.generate(req, {
      signal,
      onProgress: (progress) => emit({ type: 'progress', id, progress }),
      onPreview: (p) => emit({ type: 'preview', id, step: p.step, width: p.width, height: p.height, rgba: p.rgba }),
      onStageStart: (stage) => {
        current = sinkOf(stage);
      },
      onFrame: async (f) => {
        if (signal.aborted) return;
        if (!current) throw new LaVieError('internal', 'The engine sent a frame outside a stage.');
        await current.sink.add(f);
      },
      onStageEnd: async (stage) => {
        const s = sinkOf(stage);
        current = null;
        if (signal.aborted) return;
        if (s.sink.frames !== s.plan.video.frames) throw new LaVieError('internal', `The ${stage} stage should give ${s.plan.video.frames} frames but delivered ${s.sink.frames}.`);
        emit({ type: 'progress', id, progress: { stage, stageIndex: s.index + 1, stageCount: plan.length, phase: 'encode', step: 0, total: 1, elapsedMs: now() - t0 } });
        const { video, meta } = await s.sink.finish();
        sinks.delete(stage);
        if (signal.aborted) return;
        const ortMs = engine.counters?.runMs !== undefined ? { ortMs: engine.counters.runMs - ort0 } : {};
        const memory = engine.gpuMemory?.();
        emit({ type: 'result', id, stage, final: s.index === plan.length - 1, video, meta: { ...meta, seed: req.seed, elapsedMs: now() - t0, ...ortMs, ...(memory ? { gpuMemory: memory } : {}) } });
      },
    });
    if (!signal.aborted && sinks.size) throw new LaVieError('internal', `The engine did not finish the ${[...sinks.keys()].join(', ')} stage.`);
  } finally {
    for (const s of sinks.values()) await s.sink.cancel();
  }
}
