// The queue: add the form's settings for several seeds (or one prompt per line), watch them run one
// after another, remove the ones still waiting. Each finished video lands in History.
import { useId, useState } from 'react';
import { shortPrompt } from '../history-groups.ts';
import { QUEUE_MAX } from '../queue-plan.ts';
import { useQueue, type QueueItem } from '../queue.ts';
import { useApp } from '../state.ts';

const STATUS_TEXT: Record<QueueItem['status'], string> = {
  waiting: 'Waiting',
  running: 'Running now',
  done: 'Done · saved to History',
  failed: 'Failed',
  cancelled: 'Cancelled',
};

const waits = (n: number) => (n === 1 ? '1 video waits' : `${n} videos wait`);

export function QueuePanel() {
  const id = useId();
  const items = useQueue((s) => s.items);
  const running = useQueue((s) => s.running);
  const paused = useQueue((s) => s.paused);
  const problem = useQueue((s) => s.problem);
  const add = useQueue((s) => s.addFromForm);
  const remove = useQueue((s) => s.remove);
  const start = useQueue((s) => s.start);
  const clearFinished = useQueue((s) => s.clearFinished);
  const status = useApp((s) => s.status);
  const loaded = useApp((s) => s.pack !== null);
  const [seeds, setSeeds] = useState('1');
  const [perLine, setPerLine] = useState(false);
  const busy = status === 'generating' || status === 'loading';
  const waiting = items.filter((i) => i.status === 'waiting').length;
  const finished = items.filter((i) => i.status !== 'waiting' && i.status !== 'running').length;

  return (
    <section className="card queue" aria-labelledby={`${id}-h`}>
      <h2 id={`${id}-h`}>Queue</h2>
      <p className="muted small" id={`${id}-about`}>Several videos in one go: the form's settings with more seeds, or one prompt per line. They run one after another; each is saved to History when it finishes. Cancel (or a reload) stops the running one and pauses the rest.</p>
      <div className="queue-add">
        <div className="field">
          <label htmlFor={`${id}-seeds`}>Seeds per prompt</label>
          <input id={`${id}-seeds`} type="number" inputMode="numeric" min={1} max={QUEUE_MAX} step={1} value={seeds} onChange={(e) => setSeeds(e.target.value)} aria-describedby={`${id}-seeds-hint`} />
          <span className="muted small" id={`${id}-seeds-hint`}>The first uses the form's seed (a new one with "new seed each run"), the others new random ones.</span>
        </div>
        <label className="check">
          <input type="checkbox" checked={perLine} onChange={(e) => setPerLine(e.target.checked)} />
          <span>One prompt per line</span>
        </label>
        <div className="actions">
          <button type="button" className="secondary" disabled={!loaded} aria-describedby={`${id}-about`} onClick={() => add({ seeds: Number(seeds), perLine })}>Add to queue</button>
          {waiting > 0 && !running && (paused || !busy) && <button type="button" className="secondary" disabled={busy} onClick={() => void start()}>Resume queue ({waiting})</button>}
          {finished > 0 && <button type="button" className="secondary" onClick={clearFinished}>Clear finished</button>}
        </div>
        {waiting > 0 && !running && (
          <p className="queue-paused" role="status">
            {paused ? `Paused: ${waits(waiting)}. Resume the queue to run ${waiting === 1 ? 'it' : 'them'}.` : `${waits(waiting)}: the queue starts when the current run ends.`}
          </p>
        )}
        {problem && <p className="queue-problem" role="status">{problem.message}</p>}
      </div>
      {items.length > 0 && (
        <ol className="queue-items" aria-label="Queued videos">
          {items.map((item) => {
            const name = `'${shortPrompt(item.request.prompt)}' (seed ${item.request.seed})`;
            return (
              <li key={item.id} data-status={item.status} aria-label={`${name}: ${STATUS_TEXT[item.status]}`}>
                <span className="queue-prompt clamp" title={item.request.prompt}>{item.request.prompt}</span>
                <span className="muted small">seed {item.request.seed} · {STATUS_TEXT[item.status]}{item.error ? `: ${item.error}` : ''}</span>
                {item.status === 'waiting' && <button type="button" className="secondary small-button" aria-label={`Remove ${name} from the queue`} onClick={() => remove(item.id)}>Remove</button>}
              </li>
            );
          })}
        </ol>
      )}
    </section>
  );
}
