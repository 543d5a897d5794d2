// Why Generate is disabled while no model is loaded (the button's description).
import { useApp } from '../state.ts';

export function GenerateBlocked({ id }: { id: string }) {
  const loaded = useApp((s) => s.pack !== null);
  const status = useApp((s) => s.status);
  if (loaded) return null;
  return (
    <p id={id} className="muted small generate-reason">
      {status === 'loading' ? 'Generate is available once the model has loaded.' : 'Generate needs a model, and none is loaded: try loading it again, or choose one under Model.'}
    </p>
  );
}
