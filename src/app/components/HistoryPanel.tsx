import { STAGE_LABEL } from '../format.ts';
import { useApp } from '../state.ts';

/** Saved videos: play again, reuse the settings, or delete. */
export function HistoryPanel() {
  const history = useApp((s) => s.history);
  const status = useApp((s) => s.status);
  const show = useApp((s) => s.showFromHistory);
  const reuse = useApp((s) => s.reuseSettings);
  const remove = useApp((s) => s.deleteFromHistory);
  if (!history.length) return null;
  return (
    <section className="card history" aria-labelledby="history-heading">
      <h2 id="history-heading">History</h2>
      <ul>
        {history.map((h) => (
          <li key={h.id} aria-label={`Saved video: ${h.request.prompt}`}>
            <div className="what">
              <strong>{h.request.prompt}</strong>
              <span className="muted">{STAGE_LABEL[h.stage]} · {h.meta.frames} frames · {h.meta.width}×{h.meta.height} · seed {h.request.seed} · {h.request.sampler} {h.request.steps} steps · {new Date(h.createdAt).toLocaleString()}</span>
            </div>
            <div className="actions">
              <button type="button" className="secondary" onClick={() => show(h.id)} disabled={status === 'generating'}>Play</button>
              <button type="button" className="secondary" onClick={() => reuse(h.id)}>Use settings</button>
              <button type="button" className="secondary" onClick={() => void remove(h.id)}>Delete</button>
            </div>
          </li>
        ))}
      </ul>
    </section>
  );
}
