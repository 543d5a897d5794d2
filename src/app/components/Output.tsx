// The output card: progress, live preview and the finished video.
import { useEffect, useRef } from 'react';
import { PHASE_LABEL, STAGE_LABEL, formatDuration, resultLine, technicalDetails } from '../format.ts';
import type { ResultInfo } from '../state.ts';
import { useApp } from '../state.ts';

export function ProgressBar() {
  const progress = useApp((s) => s.progress);
  const etaMs = useApp((s) => s.etaMs);
  const stalled = useApp((s) => s.etaStalled);
  const starting = useApp((s) => s.etaStarting);
  const status = useApp((s) => s.status);
  if (!progress || status !== 'generating') return null;
  // Once a phase completed, what runs is the next one (e.g. the first step after the prompt).
  const { phase, step, total, stage, stageIndex, stageCount } = starting ? { ...progress, phase: starting, step: 0 } : progress;
  const pct = total > 0 ? Math.round((Math.min(step, total) / total) * 100) : 0;
  // etaMs: the whole job (every stage, decoding and encoding), src/app/eta.ts.
  const known = etaMs !== null && Number.isFinite(etaMs);
  const eta = !known ? 'estimating time left' : stalled ? `still ${PHASE_LABEL[phase].toLowerCase()}: this takes longer than expected, at least ${formatDuration(etaMs)} left in all` : `about ${formatDuration(etaMs)} left in all`;
  const where = progress.windows ? ` window ${progress.window}/${progress.windows}${progress.tiles ? `, tile ${progress.tile}/${progress.tiles}` : ''}`
    : progress.segments ? ` segment ${progress.segment}/${progress.segments}` : '';
  const stageText = stage && stageCount && stageCount > 1 ? `Stage ${stageIndex} of ${stageCount} (${STAGE_LABEL[stage]}${where}) · ` : '';
  const where2 = starting ? 'starting' : `step ${step} of ${total}`;
  const text = `${stageText}${PHASE_LABEL[phase]}: ${where2}, ${eta}`;
  return (
    <div className="progress" data-eta-ms={known ? Math.round(etaMs) : undefined} data-eta-stalled={stalled || undefined}>
      <div className="progress-text" aria-hidden="true">
        <span className="phase">{stageText}{PHASE_LABEL[phase]}{stalled ? ` — still at it, longer than expected` : ''}</span>
        <span>{starting ? 'starting' : `${step} / ${total}`}</span>
        <span>{known ? `${stalled ? 'ETA ≥ ' : 'ETA '}${formatDuration(etaMs)}` : 'ETA …'}</span>
      </div>
      <div
        className="bar"
        role="progressbar"
        aria-label="Generation progress"
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={pct}
        aria-valuetext={text}
      >
        <div className="fill" style={{ width: `${pct}%` }} />
      </div>
    </div>
  );
}

export function LivePreview() {
  const preview = useApp((s) => s.preview);
  const ref = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const c = ref.current;
    if (!c || !preview) return;
    c.width = preview.width;
    c.height = preview.height;
    c.getContext('2d')?.putImageData(new ImageData(new Uint8ClampedArray(preview.rgba), preview.width, preview.height), 0, 0);
  }, [preview]);
  if (!preview) return null;
  return (
    <figure className="preview">
      <canvas ref={ref} role="img" aria-label={`Live preview at step ${preview.step}`} />
      <figcaption>Preview · step {preview.step}</figcaption>
    </figure>
  );
}

/** File name of a stage's video: the base keeps the plain name. */
export const downloadName = (r: ResultInfo) => `lavie-seed${r.meta.seed}${r.stage === 'base' ? '' : `-${r.stage}`}.mp4`;

export function ResultPlayer() {
  const result = useApp((s) => s.result);
  const earlier = useApp((s) => s.earlier);
  const status = useApp((s) => s.status);
  const device = useApp((s) => s.pack?.device);
  const compute = useApp((s) => (s.pack ? `${s.pack.device} · ${s.pack.compute} compute` : undefined));
  if (!result) return null;
  const { meta } = result;
  return (
    <figure className="result" data-stage={result.stage}>
      <video src={result.url} controls autoPlay loop muted playsInline aria-label="Generated video" width={meta.width} height={meta.height} />
      <figcaption>
        <span className="result-line">
          {STAGE_LABEL[result.stage]}{!result.final && status === 'generating' ? ' (next stage running)' : ''} · {resultLine(meta, device)}
        </span>
        <a className="button primary" href={result.url} download={downloadName(result)}>Download MP4</a>
        {earlier.map((r) => (
          <a key={r.url} className="button secondary" href={r.url} download={downloadName(r)}>Download {STAGE_LABEL[r.stage].toLowerCase()} ({r.meta.frames} frames)</a>
        ))}
        <details className="tech-details">
          <summary>Technical details</summary>
          <dl>{technicalDetails(meta, result.bytes, compute).map(([k, v]) => <div key={k}><dt>{k}</dt><dd data-field={k}>{v}</dd></div>)}</dl>
        </details>
      </figcaption>
    </figure>
  );
}

export function OutputPanel() {
  const status = useApp((s) => s.status);
  const result = useApp((s) => s.result);
  const preview = useApp((s) => s.preview);
  const empty = !result && !preview && status !== 'generating';
  return (
    <section className="card output" aria-labelledby="output-heading" aria-busy={status === 'generating'}>
      <h2 id="output-heading">Video</h2>
      <ProgressBar />
      {status === 'generating' && !preview && <p className="muted">Working… the first preview appears after the first step.</p>}
      {status === 'generating' && <LivePreview />}
      <ResultPlayer />
      {empty && <p className="muted placeholder">Your video appears here. Describe a scene and press Generate.</p>}
      <p className="sr-only" role="status">{status === 'done' ? 'Video ready.' : status === 'generating' ? 'Generating.' : ''}</p>
    </section>
  );
}
