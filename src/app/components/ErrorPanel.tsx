import { ERRORS } from '../../protocol.ts';
import { useApp } from '../state.ts';

export function ErrorPanel() {
  const error = useApp((s) => s.error);
  const status = useApp((s) => s.status);
  const pack = useApp((s) => s.pack);
  const dismiss = useApp((s) => s.dismissError);
  const load = useApp((s) => s.load);
  if (status !== 'error' || !error) return null;
  const { message: title, next } = ERRORS[error.code];
  return (
    <div className="card error" role="alert" data-code={error.code}>
      <h2>{title}</h2>
      <p className="hint">{next}</p>
      <p className="detail"><code>{error.code}</code> <span className="message">{error.message}</span></p>
      <div className="actions">
        {!error.recoverable ? (
          <button type="button" className="primary" onClick={() => location.reload()}>Reload page</button>
        ) : !pack ? (
          <button type="button" className="primary" onClick={() => void load()}>Try loading again</button>
        ) : null}
        {error.recoverable && <button type="button" className="secondary" onClick={dismiss}>Dismiss</button>}
      </div>
    </div>
  );
}
