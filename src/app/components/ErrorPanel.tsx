// An error in the user's words: what happened, what exactly (the setting or the damaged file),
// what to do; the internal code and message only in the details line.
import { ERRORS } from '../../protocol.ts';
import { useApp } from '../state.ts';

export function ErrorPanel() {
  const error = useApp((s) => s.error);
  const status = useApp((s) => s.status);
  const pack = useApp((s) => s.pack);
  const revertedTo = useApp((s) => s.revertedTo);
  const dismiss = useApp((s) => s.dismissError);
  const load = useApp((s) => s.load);
  if (status !== 'error' || !error) return null;
  const { message: title, next } = ERRORS[error.code];
  // bad-request messages name the setting in plain words ("Prompt must not be empty.").
  const what = error.field ? error.message : error.file ? `Damaged file: ${error.file}` : null;
  return (
    <div className="card error" role="alert" data-code={error.code}>
      <h2>{title}</h2>
      {what && <p className="what">{what}</p>}
      <p className="hint">{next}</p>
      {revertedTo && pack && <p className="reverted">Back on the model that worked before: {revertedTo}.</p>}
      <p className="detail small muted">Details: <code>{error.code}</code> <span className="message">{error.message}</span></p>
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
