// Saved videos as a gallery: one entry per request, its videos (base, smoother, high resolution)
// side by side with a poster frame each, and where a reload or a closed tab cut the request short,
// a tile saying so (when, how far) with "Run again"; every button's name says which video it acts on.
import { useEffect, useId, useMemo, useState } from 'react';
import { STAGE_LABEL } from '../format.ts';
import { groupHistory, interruptedAt, shortPrompt, type HistoryGroup } from '../history-groups.ts';
import type { InterruptedEntry, VideoEntry } from '../history.ts';
import { useQueue } from '../queue.ts';
import { useApp } from '../state.ts';

/** Prompts longer than this are clamped to a few lines, with a button to show all of it. */
const LONG_PROMPT = 140;

export function HistoryPanel() {
  const history = useApp((s) => s.history);
  const groups = useMemo(() => groupHistory(history), [history]);
  if (!history.length) return null;
  return (
    <section className="card history" aria-labelledby="history-heading">
      <h2 id="history-heading">History</h2>
      <ul>
        {groups.map((g) => <HistoryItem key={g.key} group={g} />)}
      </ul>
    </section>
  );
}

function HistoryItem({ group }: { group: HistoryGroup }) {
  const reuse = useApp((s) => s.reuseSettings);
  const id = useId();
  const [expanded, setExpanded] = useState(false);
  const r = group.request;
  const long = r.prompt.length > LONG_PROMPT;
  const short = shortPrompt(r.prompt);
  return (
    <li className="history-item" aria-label={`${group.videos.some((v) => v.video) ? 'Saved video' : 'Interrupted run'}: ${r.prompt}`}>
      <div className="what">
        <p id={`${id}-prompt`} className={`prompt${long && !expanded ? ' clamp' : ''}`} title={long && !expanded ? r.prompt : undefined}>{r.prompt}</p>
        {long && (
          <button type="button" className="link-button" aria-expanded={expanded} aria-controls={`${id}-prompt`} onClick={() => setExpanded(!expanded)}>
            {expanded ? 'Show less' : 'Show the whole prompt'}
          </button>
        )}
        <span className="muted small">seed {r.seed} · {r.sampler} {r.steps} steps · {new Date(group.newest).toLocaleString()}</span>
      </div>
      <ul className="videos" aria-label={`Videos of '${short}'`}>
        {group.videos.map((v) => (v.interrupted ? <InterruptedTile key={v.id} entry={v} short={short} /> : <VideoTile key={v.id} entry={v} short={short} />))}
      </ul>
      <div className="actions">
        <button type="button" className="secondary" aria-label={`Use settings of '${short}' (seed ${r.seed})`} onClick={() => reuse(group.videos[0]!.id)}>Use settings</button>
      </div>
    </li>
  );
}

function VideoTile({ entry, short }: { entry: VideoEntry; short: string }) {
  const status = useApp((s) => s.status);
  const show = useApp((s) => s.showFromHistory);
  const remove = useApp((s) => s.deleteFromHistory);
  const poster = useObjectUrl(entry.poster);
  const stage = STAGE_LABEL[entry.stage];
  const which = `'${short}' — ${stage.toLowerCase()}`;
  const { meta } = entry;
  return (
    <li className="video-tile" data-stage={entry.stage}>
      <button type="button" className="poster" aria-label={`Play ${which}`} onClick={() => show(entry.id)} disabled={status === 'generating'}>
        {poster ? <img src={poster} alt="" width={meta.width} height={meta.height} /> : <span className="no-poster" aria-hidden="true">▶</span>}
      </button>
      <span className="small">{stage}</span>
      <span className="muted small">{meta.frames} frames · {meta.width}×{meta.height}</span>
      <button type="button" className="secondary small-button" aria-label={`Delete ${which}`} onClick={() => void remove(entry.id)}>Delete</button>
    </li>
  );
}

/** A run a reload or a closed tab cut short: when and how far it got; run it again (through the queue) or remove it. */
function InterruptedTile({ entry, short }: { entry: InterruptedEntry; short: string }) {
  const remove = useApp((s) => s.deleteFromHistory);
  const enqueue = useQueue((s) => s.enqueue);
  const stage = STAGE_LABEL[entry.stage];
  const which = `the interrupted run of '${short}' (seed ${entry.request.seed})`;
  return (
    <li className="video-tile interrupted-tile" data-stage={entry.stage} data-status="interrupted">
      <span className="tag">Interrupted</span>
      <span className="small">{stage}</span>
      <span className="muted small">{interruptedAt(entry.interrupted.progress)} · {new Date(entry.createdAt).toLocaleString()}</span>
      <span className="tile-actions">
        <button type="button" className="secondary small-button" aria-label={`Run ${which} again`} onClick={() => enqueue([entry.request])}>Run again</button>
        <button type="button" className="secondary small-button" aria-label={`Remove ${which}`} onClick={() => void remove(entry.id)}>Remove</button>
      </span>
    </li>
  );
}

/** An object URL for a Blob, revoked when the Blob changes or the component goes. */
function useObjectUrl(blob: Blob | undefined): string | null {
  const [url, setUrl] = useState<string | null>(null);
  useEffect(() => {
    if (!blob) return setUrl(null);
    const u = URL.createObjectURL(blob);
    setUrl(u);
    return () => URL.revokeObjectURL(u);
  }, [blob]);
  return url;
}
