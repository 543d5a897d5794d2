// After a History delete: say what went, and offer to bring it back (until the next delete or a reload).
import { useApp } from '../state.ts';

export function UndoDelete() {
  const deleted = useApp((s) => s.deleted);
  const undo = useApp((s) => s.undoDelete);
  if (!deleted) return null;
  const p = deleted.entry.request.prompt;
  const what = deleted.entry.interrupted ? 'Removed the interrupted run' : 'Deleted';
  return (
    <div className="card undo-delete" role="status">
      <span>{what} “{p.length > 60 ? `${p.slice(0, 57)}…` : p}”.</span>
      <button type="button" className="secondary" onClick={undo}>Undo delete</button>
    </div>
  );
}
