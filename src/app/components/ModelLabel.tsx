// At the top of the page: what the loaded model is (issue 14: a demo is labelled for what it is),
// and always one click to where a model is chosen — the path to the real LaVie weights.
import { useApp } from '../state.ts';
import { useUi } from '../ui-prefs.ts';

export function ModelLabel() {
  const pack = useApp((s) => s.pack);
  const status = useApp((s) => s.status);
  const reveal = useUi((s) => s.revealChooser);
  if (!pack && status === 'loading') return <p className="model-label muted" role="status">Loading the model…</p>;
  const kind = !pack ? 'none' : pack.about ? 'demo' : pack.testWeights ? 'test' : 'model';
  return (
    <div className={`model-label banner ${kind === 'model' ? '' : 'warn'}`} data-kind={kind}>
      {kind === 'demo' && (
        <>
          <strong>{pack!.about!.description}</strong>
          <span>A small model, not LaVie itself: try one of its example prompts below.</span>
        </>
      )}
      {kind === 'test' && (
        <>
          <strong>Test weights: output is noise</strong>
          <span>This demo pack has random weights so the app works without a download.</span>
        </>
      )}
      {kind === 'model' && <strong>Model: {pack!.name}</strong>}
      {kind === 'none' && <strong>No model loaded</strong>}
      <button type="button" className="link" onClick={reveal}>{kind === 'model' || kind === 'none' ? 'Choose another model…' : 'Use the real LaVie weights…'}</button>
    </div>
  );
}
