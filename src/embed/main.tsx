// The embeddable generator (/embed/?parent=<host origins>[&pack=<base URL>]): no form of its own —
// a host page drives it through postMessage (src/embed/protocol.ts). It shows what it is doing
// and the latest video, so the frame is never a blank box.
import { StrictMode, useEffect, useRef, useState } from 'react';
import { createRoot } from 'react-dom/client';
import { PHASE_LABEL, formatDuration } from '../app/format.ts';
import { EngineClient } from '../app/worker-client.ts';
import { toErrorInfo, type ErrorInfo, type PackRef, type ProgressInfo } from '../protocol.ts';
import { allowedOrigins, createBridge, embeddingOrigin } from './bridge.ts';
import { registerServiceWorker } from '../sw/register.ts';
import '../app/styles.css';

type View = { state: 'refused'; allow: string[] } | { state: 'loading' | 'ready' | 'busy' } | { state: 'error'; error: ErrorInfo };

const params = new URLSearchParams(location.search);
const allow = allowedOrigins(params.get('parent'), import.meta.env.VITE_EMBED_ORIGINS as string | undefined);
const ancestor = (location as Location & { ancestorOrigins?: DOMStringList }).ancestorOrigins?.[0];
const inFrame = window.parent !== window;
const parentOrigin = inFrame ? embeddingOrigin(allow, ancestor, document.referrer) : null;

let setView: (v: View) => void = () => {};
let setProgress: (p: ProgressInfo | null) => void = () => {};
let setVideo: (url: string | null) => void = () => {};

function EmbedView() {
  const [view, sv] = useState<View>(parentOrigin ? { state: 'loading' } : { state: 'refused', allow });
  const [progress, sp] = useState<ProgressInfo | null>(null);
  const [video, svid] = useState<string | null>(null);
  const first = useRef(true);
  useEffect(() => {
    if (!first.current) return;
    first.current = false;
    setView = sv;
    setProgress = sp;
    setVideo = (u) => svid((old) => { if (old) URL.revokeObjectURL(old); return u; });
    if (parentOrigin) start(parentOrigin);
  }, []);
  return (
    <main className="embed-view" aria-live="polite">
      {view.state === 'refused' && (
        <p className="banner warn" role="alert" data-state="refused">
          <strong>Not allowed here</strong>
          <span>{inFrame ? `This generator only runs inside pages from: ${view.allow.join(', ') || '(no origin given — add ?parent=<your origin> to the frame URL)'}.` : 'This is the embeddable view of LaVie Web: put it in an iframe (see embed-example.html).'}</span>
        </p>
      )}
      {view.state === 'loading' && <p className="muted" data-state="loading">Loading the model…</p>}
      {view.state === 'ready' && !video && <p className="muted" data-state="ready">Ready.</p>}
      {view.state === 'error' && <p className="banner warn" role="alert" data-state="error"><strong>{view.error.code}</strong><span>{view.error.message}</span></p>}
      {progress && view.state === 'busy' && (
        <div className="progress">
          <div className="bar" role="progressbar" aria-label="Generation progress" aria-valuemin={0} aria-valuemax={100} aria-valuenow={progress.total ? Math.round((100 * progress.step) / progress.total) : 0}>
            <div className="fill" style={{ width: `${progress.total ? (100 * progress.step) / progress.total : 0}%` }} />
          </div>
          <p className="muted small">{PHASE_LABEL[progress.phase]} {progress.step}/{progress.total}{progress.etaMs !== undefined ? ` · ${formatDuration(progress.etaMs)} left` : ''}</p>
        </div>
      )}
      {video && <video src={video} controls autoPlay loop muted playsInline aria-label="Generated video" />}
    </main>
  );
}

function start(origin: string) {
  const client = new EngineClient();
  const packUrl = params.get('pack');
  const ref: PackRef = packUrl ? { kind: 'url', baseUrl: packUrl } : { kind: 'builtin' };
  let pack: Awaited<ReturnType<EngineClient['load']>> | null = null;
  const bridge = createBridge({
    parentOrigin: origin,
    parent: window.parent,
    engine: {
      cancel: (id) => client.cancel(id),
      // Every stage's video is shown here too (the bridge posts it to the host).
      generate: (req, cb) => {
        const h = client.generate(req, {
          ...cb,
          onProgress: (p) => { setProgress(p); cb.onProgress?.(p); },
          onStageResult: (out) => { setVideo(URL.createObjectURL(out.video)); cb.onStageResult?.(out); },
        });
        h.done.then((out) => setVideo(URL.createObjectURL(out.video)), () => undefined);
        return h;
      },
    },
    pack: () => pack,
    onActivity: (what) => {
      setView({ state: what === 'start' ? 'busy' : 'ready' });
      if (what === 'end') setProgress(null);
    },
  });
  window.addEventListener('message', (e) => bridge.onMessage({ origin: e.origin, source: e.source, data: e.data }));
  client.load(ref).then(
    (p) => {
      pack = p;
      setView({ state: 'ready' });
      bridge.ready(p);
    },
    (e: unknown) => {
      const error = toErrorInfo(e);
      setView({ state: 'error', error });
      bridge.failed(error);
    },
  );
}

createRoot(document.getElementById('root')!).render(<StrictMode><EmbedView /></StrictMode>);
registerServiceWorker();
