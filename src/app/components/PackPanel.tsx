// The model panel: what is loaded, download progress, and where the model comes from.
import { useEffect, useId, useRef, useState } from 'react';
import { filesFromFileList } from '../../packs/sources/local-folder.ts';
import type { PackRef } from '../../protocol.ts';
import { PHASE_LABEL, formatBytes, formatDuration } from '../format.ts';
import { useApp } from '../state.ts';
import { canPickFolder, pickFolder, rememberedFolder } from '../pack-choice.ts';
import { useUi } from '../ui-prefs.ts';
import { Collapsible } from './Collapsible.tsx';
import { OfficialWeights } from './OfficialWeights.tsx';

/** Where the model runs, in a person's words (the execution provider is a technical detail). */
export function runsOn(device: string): string {
  return device === 'webgpu' ? 'your graphics card (GPU)' : device === 'wasm' || device === 'cpu' ? 'your processor (no WebGPU here: much slower)' : 'this device';
}

function packLabel(ref: PackRef): string {
  return ref.kind === 'builtin' ? 'built-in demo pack' : ref.kind === 'url' ? ref.baseUrl : ref.kind === 'stored' ? `stored pack "${ref.name}"` : `folder "${ref.name}"`;
}

export function PackPanel() {
  const pack = useApp((s) => s.pack);
  const packRef = useApp((s) => s.packRef);
  const status = useApp((s) => s.status);
  return (
    <Collapsible panel="model" title="Model" className="card pack" folded={pack ? pack.name : status === 'loading' ? 'Loading…' : 'No model loaded'}>
      {pack ? (
        <>
          <dl className="facts">
            <dt>Pack</dt><dd>{pack.name}</dd>
            <dt>From</dt><dd>{packLabel(packRef)}</dd>
            <dt>Size</dt><dd>{formatBytes(pack.bytes)}</dd>
            <dt>Video</dt><dd>{pack.frames} frames · {pack.width}×{pack.height} · {pack.fps} fps</dd>
            <dt>Stages</dt><dd>base{pack.stages.interp ? ` · interpolation → ${pack.stages.interp.frames} frames` : ''}{pack.stages.vsr ? ` · super-resolution → ${pack.stages.vsr.width}×${pack.stages.vsr.height}` : ''}</dd>
            <dt>Runs on</dt><dd>{runsOn(pack.device)}</dd>
          </dl>
          <details className="tech-details">
            <summary>Technical details</summary>
            <dl className="facts">
              <dt>Compute</dt><dd data-field="Compute">{pack.device} · {pack.compute === 'fp16' ? 'fp16 compute (shader-f16)' : 'fp32 compute'}</dd>
              {pack.adapter && <><dt>GPU buffers</dt><dd>up to {formatBytes(pack.adapter.maxBufferSize)} each</dd></>}
            </dl>
          </details>
        </>
      ) : (
        <p className="muted">{status === 'loading' ? `Loading the ${packLabel(packRef)}…` : `No model loaded (${packLabel(packRef)}).`}</p>
      )}
      {status === 'loading' && <DownloadProgress />}
      <PackSourcePicker />
      <OfficialWeights />
    </Collapsible>
  );
}

/** Pack download/verification/load progress with speed and ETA, and a way to stop it. */
export function DownloadProgress() {
  const progress = useApp((s) => s.progress);
  const etaMs = useApp((s) => s.etaMs);
  const cancelLoad = useApp((s) => s.cancelLoad);
  const p = progress;
  const d = p?.download;
  const pct = p && p.total > 0 ? Math.round((Math.min(p.step, p.total) / p.total) * 100) : 0;
  const amount = p && (p.phase === 'download' || p.phase === 'verify') ? `${formatBytes(p.step)} of ${formatBytes(p.total)}` : p ? `${pct} %` : '';
  const speed = d?.bytesPerSec ? ` · ${formatBytes(d.bytesPerSec)}/s` : '';
  const eta = etaMs !== null && Number.isFinite(etaMs) ? ` · about ${formatDuration(etaMs)} left` : '';
  const file = d ? `${d.file}: ${formatBytes(d.fileLoaded)} of ${formatBytes(d.fileBytes)}${d.filesTotal ? ` (file ${Math.min(d.filesDone + 1, d.filesTotal)} of ${d.filesTotal})` : ''}` : '';
  const text = p ? `${PHASE_LABEL[p.phase]}: ${amount}${speed}${eta}` : 'Starting…';
  return (
    <div className="progress download">
      <div className="progress-text"><span className="phase">{text}</span></div>
      <div className="bar" role="progressbar" aria-label="Model download progress" aria-valuemin={0} aria-valuemax={100} aria-valuenow={pct} aria-valuetext={text}>
        <div className="fill" style={{ width: `${pct}%` }} />
      </div>
      {file && <p className="muted small">{file}</p>}
      <button type="button" className="secondary" onClick={cancelLoad}>Cancel download</button>
    </div>
  );
}

/** Choose where the model comes from: the built-in demo, a URL, or a folder on this computer. */
export function PackSourcePicker() {
  const packRef = useApp((s) => s.packRef);
  const status = useApp((s) => s.status);
  const choose = useApp((s) => s.choosePack);
  const [url, setUrl] = useState(packRef.kind === 'url' ? packRef.baseUrl : '');
  const folderInput = useRef<HTMLInputElement>(null);
  const urlInput = useRef<HTMLInputElement>(null);
  const chooser = useRef<HTMLDetailsElement>(null);
  const id = useId();
  const open = useUi((s) => s.chooserOpen);
  const setOpen = useUi((s) => s.setChooserOpen);
  const focus = useUi((s) => s.chooserFocus);
  const noPack = useApp((s) => !s.pack) && status !== 'loading';
  // Asked from elsewhere (the label at the top): bring the chooser into view, ready for a URL.
  useEffect(() => {
    if (!focus) return;
    chooser.current?.scrollIntoView({ block: 'center' });
    urlInput.current?.focus();
  }, [focus]);
  const busy = status === 'generating';
  const openFolder = async () => {
    if (!canPickFolder()) {
      folderInput.current?.click();
      return;
    }
    try {
      const remembered = packRef.kind === 'local' && !packRef.dir ? await rememberedFolder(true) : null;
      const dir = remembered ?? (await pickFolder());
      if (dir) await choose({ kind: 'local', name: dir.name, dir });
    } catch (e) {
      if ((e as DOMException).name !== 'AbortError') throw e; // the user closed the picker
    }
  };
  return (
    <details ref={chooser} className="sources" open={open || noPack} onToggle={(e) => { if (e.currentTarget.open !== (open || noPack)) setOpen(e.currentTarget.open); }}>
      <summary>Change model</summary>
      <p className="muted small">
        Real LaVie weights: convert them once with <code>npm run convert</code> (README, “Using the real LaVie weights”), then open the folder here or load it from where you host it.
      </p>
      <div className="source-row">
        <button type="button" className="secondary" disabled={busy} onClick={() => void choose({ kind: 'builtin' })}>Use demo pack</button>
        <button type="button" className="secondary" disabled={busy} onClick={() => void openFolder()}>Open local folder…</button>
        <input
          ref={folderInput}
          type="file"
          hidden
          aria-label="Pack folder"
          {...{ webkitdirectory: '', directory: '' }}
          onChange={(e) => {
            const list = e.currentTarget.files;
            if (!list?.length) return;
            const files = Object.fromEntries([...filesFromFileList(list)].map(([k, v]) => [k, v as File]));
            const name = (list[0] as File & { webkitRelativePath?: string }).webkitRelativePath?.split('/')[0] || 'folder';
            void choose({ kind: 'local', name, files });
          }}
        />
      </div>
      <form
        className="source-row"
        onSubmit={(e) => {
          e.preventDefault();
          if (url.trim()) void choose({ kind: 'url', baseUrl: url.trim() });
        }}
      >
        <label htmlFor={`${id}-url`} className="sr-only">Pack URL</label>
        <input ref={urlInput} id={`${id}-url`} type="url" placeholder="https://huggingface.co/<user>/<repo>/resolve/main/" value={url} onChange={(e) => setUrl(e.target.value)} />
        <button type="submit" className="secondary" disabled={busy || !url.trim()}>Load from URL</button>
      </form>
    </details>
  );
}
