// Runs a reload, a closed tab or a crash interrupted (src/app/interrupted.ts): their settings, to run again.
import { STAGE_LABEL } from '../format.ts';
import { useApp } from '../state.ts';

export function InterruptedRuns() {
  const runs = useApp((s) => s.interrupted);
  const reuse = useApp((s) => s.reuseInterrupted);
  const dismiss = useApp((s) => s.dismissInterrupted);
  if (!runs.length) return null;
  return (
    <section className="card history interrupted" aria-labelledby="interrupted-heading">
      <h2 id="interrupted-heading">Interrupted runs</h2>
      <ul>
        {runs.map((r) => {
          const q = r.request;
          const stages = [STAGE_LABEL.base, ...(q.interpolate ? [STAGE_LABEL.interp] : []), ...(q.superResolve ? [STAGE_LABEL.vsr] : [])].join(' + ');
          return (
            <li key={r.id} aria-label={`Interrupted: ${q.prompt}`} data-status="interrupted">
              <div className="what">
                <strong className="clamp">{q.prompt}</strong>
                <span className="muted small"><span className="tag">interrupted</span> {stages} · seed {q.seed} · {q.sampler} {q.steps} steps · started {new Date(r.startedAt).toLocaleString()}</span>
              </div>
              <div className="actions">
                <button type="button" className="secondary" onClick={() => reuse(r.id)} aria-label={`Use settings of the interrupted run “${q.prompt.slice(0, 40)}”`}>Use settings</button>
                <button type="button" className="secondary" onClick={() => dismiss(r.id)} aria-label={`Dismiss the interrupted run “${q.prompt.slice(0, 40)}”`}>Dismiss</button>
              </div>
            </li>
          );
        })}
      </ul>
    </section>
  );
}
