// The page's pieces. Accessible names are part of the contract (e2e tests use getByLabel / getByRole).
import { useEffect, useId, useRef, useState, type FormEvent } from 'react';
import { filesFromFileList } from '../packs/sources/local-folder.ts';
import { ERRORS, LIMITS, PROMPT_TEXT_TOKENS, SAMPLERS, type NumberLimit, type PackRef } from '../protocol.ts';
import { PHASE_LABEL, STAGE_LABEL, formatBytes, formatDuration } from './format.ts';
import type { ResultInfo } from './state.ts';
import { countPromptTokens, storedKeyOf, useApp } from './state.ts';
import { canPickFolder, pickFolder, rememberedFolder } from './pack-choice.ts';

export function PromptForm() {
  const form = useApp((s) => s.form);
  const status = useApp((s) => s.status);
  const setField = useApp((s) => s.setField);
  const randomizeSeed = useApp((s) => s.randomizeSeed);
  const generate = useApp((s) => s.generate);
  const cancel = useApp((s) => s.cancel);
  const id = useId();
  const busy = status === 'generating' || status === 'loading';
  const interp = useApp((s) => s.pack?.stages.interp);
  const vsr = useApp((s) => s.pack?.stages.vsr);

  const onSubmit = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    void generate();
  };

  return (
    <form className="card form" onSubmit={onSubmit} aria-label="Generation settings">
      <div className="field">
        <label htmlFor={`${id}-prompt`}>Prompt</label>
        <textarea
          id={`${id}-prompt`}
          rows={3}
          required
          maxLength={LIMITS.promptChars}
          aria-describedby={`${id}-tokens`}
          placeholder="a corgi walking in the park at sunrise, oil painting"
          value={form.prompt}
          onChange={(e) => setField('prompt', e.target.value)}
          onKeyDown={(e) => {
            if (e.key === 'Enter' && (e.metaKey || e.ctrlKey)) {
              e.preventDefault();
              e.currentTarget.form?.requestSubmit();
            }
          }}
        />
        <TokenCount id={`${id}-tokens`} text={form.prompt} />
      </div>
      <div className="field">
        <label htmlFor={`${id}-neg`}>Negative prompt</label>
        <textarea id={`${id}-neg`} rows={2} maxLength={LIMITS.promptChars} placeholder="blurry, low quality" value={form.negativePrompt} onChange={(e) => setField('negativePrompt', e.target.value)} />
      </div>
      <div className="grid-fields">
        <div className="field seed">
          <label htmlFor={`${id}-seed`}>Seed</label>
          <div className="with-button">
            <input id={`${id}-seed`} type="number" inputMode="numeric" {...bounds(LIMITS.seed)} required value={form.seed} onChange={(e) => setField('seed', e.target.value)} />
            <button type="button" className="secondary" onClick={randomizeSeed} disabled={busy}>Random</button>
          </div>
        </div>
        <div className="field">
          <label htmlFor={`${id}-steps`}>Steps</label>
          <input id={`${id}-steps`} type="number" inputMode="numeric" {...bounds(LIMITS.steps)} required value={form.steps} onChange={(e) => setField('steps', e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor={`${id}-cfg`}>Guidance scale</label>
          <input id={`${id}-cfg`} type="number" inputMode="decimal" {...bounds(LIMITS.guidanceScale)} required value={form.guidanceScale} onChange={(e) => setField('guidanceScale', e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor={`${id}-sampler`}>Sampler</label>
          <select id={`${id}-sampler`} value={form.sampler} onChange={(e) => setField('sampler', e.target.value as (typeof SAMPLERS)[number])}>
            {SAMPLERS.map((s) => <option key={s} value={s}>{s}</option>)}
          </select>
        </div>
      </div>
      <fieldset className="stages">
        <legend>Stages</legend>
        <label className="check">
          <input type="checkbox" checked={form.interpolate && !!interp} disabled={!interp} onChange={(e) => setField('interpolate', e.target.checked)} />
          <span>Smoother ({interp ? interp.frames : 61} frames){interp ? ` · ${interp.fps} fps` : ' · not in this pack'}</span>
        </label>
        <label className="check">
          <input type="checkbox" checked={form.superResolve && !!vsr} disabled={!vsr} onChange={(e) => setField('superResolve', e.target.checked)} />
          <span>High resolution ({vsr ? `${vsr.width}×${vsr.height}` : '1280×2048'}){vsr ? '' : ' · not in this pack'}</span>
        </label>
        {form.superResolve && vsr && <VsrWarning />}
      </fieldset>
      <div className="actions">
        <button type="submit" className="primary" disabled={busy}>Generate</button>
        <button type="button" className="secondary" onClick={cancel} disabled={status !== 'generating'}>Cancel</button>
      </div>
    </form>
  );
}

/** An input's min/max/step from the request contract. */
const bounds = (l: NumberLimit) => ({ min: l.min, max: l.max, step: l.step });

/** How much of CLIP's context the prompt uses, and that the rest is cut (counted by the worker on
 * the pack's tokenizer; nothing is shown until a pack is loaded). */
export function TokenCount({ id, text }: { id: string; text: string }) {
  const loaded = useApp((s) => s.pack !== null);
  const [count, setCount] = useState<number | null>(null);
  useEffect(() => {
    if (!loaded) return setCount(null);
    let live = true;
    const t = setTimeout(() => void countPromptTokens(text).then((n) => { if (live) setCount(n); }), 150);
    return () => { live = false; clearTimeout(t); };
  }, [text, loaded]);
  if (count === null) return null;
  const cut = count > PROMPT_TEXT_TOKENS;
  return (
    <p id={id} className={`muted small token-count${cut ? ' over' : ''}`} aria-live="polite">
      {cut ? `${count} tokens: only the first ${PROMPT_TEXT_TOKENS} are used, the rest of the prompt is cut.` : `${count} of ${PROMPT_TEXT_TOKENS} tokens`}
    </p>
  );
}

const plural = (n: number, w: string) => `${n} ${w}${n === 1 ? '' : 's'}`;

/** Before a super-resolution run: how much work it is, what it needs from the GPU, how long it may take. */
export function VsrWarning() {
  const pack = useApp((s) => s.pack);
  const form = useApp((s) => s.form);
  const stepMs = useApp((s) => s.stepMs);
  const vsr = pack?.stages.vsr;
  if (!pack || !vsr) return null;
  const frames = form.interpolate && pack.stages.interp ? pack.stages.interp.frames : pack.frames;
  const windows = Math.ceil(frames / 8);
  const calls = windows * vsr.tiles * vsr.steps;
  const limit = pack.adapter?.maxBufferSize;
  const need = vsr.largestTensorBytes;
  const eta = stepMs ? ` At this device's measured speed (${formatDuration(stepMs)} per base step) expect roughly ${formatDuration(calls * stepMs * vsr.stepCost)} for it.` : ' Run a base video first to get a time estimate for this device.';
  return (
    <p className="banner warn vsr-warning" role="note" aria-label="Super-resolution estimate">
      <strong>High resolution is slow.</strong>
      <span>
        {plural(windows, 'window')} × {plural(vsr.tiles, 'tile')} × {plural(vsr.steps, 'step')} = {plural(calls, 'UNet call')}, then {frames} frames through the ×{vsr.scale} decoder.{eta}
        {need ? ` Largest GPU buffer: ${formatBytes(need)}${limit ? ` (this GPU allows ${formatBytes(limit)}${need > limit ? ' — too large, the run will fail' : ''})` : ''}.` : ''}
      </span>
    </p>
  );
}

function packLabel(ref: PackRef): string {
  return ref.kind === 'builtin' ? 'built-in demo pack' : ref.kind === 'url' ? ref.baseUrl : `folder "${ref.name}"`;
}

export function PackPanel() {
  const pack = useApp((s) => s.pack);
  const packRef = useApp((s) => s.packRef);
  const status = useApp((s) => s.status);
  return (
    <section className="card pack" aria-labelledby="pack-heading">
      <h2 id="pack-heading">Model</h2>
      {pack ? (
        <>
          {pack.testWeights && (
            <p className="banner warn" role="note">
              <strong>Test weights: output is noise</strong>
              <span>This demo pack has random weights so the app works without a download. See the README for real LaVie weights.</span>
            </p>
          )}
          <dl className="facts">
            <dt>Pack</dt><dd>{pack.name}</dd>
            <dt>From</dt><dd>{packLabel(packRef)}</dd>
            <dt>Size</dt><dd>{formatBytes(pack.bytes)}</dd>
            <dt>Video</dt><dd>{pack.frames} frames · {pack.width}×{pack.height} · {pack.fps} fps</dd>
            <dt>Stages</dt><dd>base{pack.stages.interp ? ` · interpolation → ${pack.stages.interp.frames} frames` : ''}{pack.stages.vsr ? ` · super-resolution → ${pack.stages.vsr.width}×${pack.stages.vsr.height}` : ''}</dd>
            <dt>Runs on</dt><dd>{pack.device === 'wasm' ? 'wasm (no WebGPU here: CPU only, much slower)' : pack.device} · {pack.compute === 'fp16' ? 'fp16 compute (shader-f16)' : 'fp32 compute'}</dd>
          </dl>
        </>
      ) : (
        <p className="muted">{status === 'loading' ? `Loading the ${packLabel(packRef)}…` : `No model loaded (${packLabel(packRef)}).`}</p>
      )}
      {status === 'loading' && <DownloadProgress />}
      <PackSourcePicker />
    </section>
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
  const id = useId();
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
    <details className="sources" open={!useApp.getState().pack && status !== 'loading' ? true : undefined}>
      <summary>Change model</summary>
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
        <input id={`${id}-url`} type="url" placeholder="https://huggingface.co/<user>/<repo>/resolve/main/" value={url} onChange={(e) => setUrl(e.target.value)} />
        <button type="submit" className="secondary" disabled={busy || !url.trim()}>Load from URL</button>
      </form>
    </details>
  );
}

/** What this browser keeps: downloaded packs with their sizes (deletable), usage and quota. */
export function StoragePanel() {
  const storage = useApp((s) => s.storage);
  const packRef = useApp((s) => s.packRef);
  const pack = useApp((s) => s.pack);
  const remove = useApp((s) => s.deleteStoredPack);
  const refresh = useApp((s) => s.refreshStorage);
  useEffect(() => { void refresh(); }, [refresh]);
  if (!storage) return null;
  const inUse = pack ? storedKeyOf(packRef) : null;
  return (
    <section className="card storage" aria-labelledby="storage-heading">
      <h2 id="storage-heading">Storage</h2>
      <p className="muted small">
        {storage.usage !== undefined && storage.quota ? `This site uses ${formatBytes(storage.usage)} of ${formatBytes(storage.quota)} available. ` : ''}
        {storage.persisted ? 'Downloads are kept until you delete them.' : 'The browser may clear downloads when disk space runs low.'}
        {storage.kind === 'memory' ? ' This browser offers no storage here: packs are downloaded again on every visit.' : ''}
      </p>
      {storage.packs.length === 0 ? (
        <p className="muted">No downloaded packs.</p>
      ) : (
        <ul className="stored-packs">
          {storage.packs.map((p) => (
            <li key={p.key} aria-label={`Stored pack ${p.name}`}>
              <div className="what">
                <strong>{p.name}</strong>
                <span className="muted small">{p.complete ? formatBytes(p.bytes) : `${formatBytes(p.bytes)} of ${formatBytes(p.totalBytes)} (incomplete)`} · {p.origin}</span>
              </div>
              <button type="button" className="secondary" disabled={p.key === inUse} title={p.key === inUse ? 'In use' : undefined} onClick={() => void remove(p.key)}>
                {p.key === inUse ? 'In use' : 'Delete'}
              </button>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

export function ProgressBar() {
  const progress = useApp((s) => s.progress);
  const etaMs = useApp((s) => s.etaMs);
  const status = useApp((s) => s.status);
  if (!progress || status !== 'generating') return null;
  const { phase, step, total, stage, stageIndex, stageCount } = progress;
  const pct = total > 0 ? Math.round((Math.min(step, total) / total) * 100) : 0;
  const eta = etaMs !== null && Number.isFinite(etaMs) ? `about ${formatDuration(etaMs)} left` : 'estimating time left';
  const where = progress.windows ? ` window ${progress.window}/${progress.windows}${progress.tiles ? `, tile ${progress.tile}/${progress.tiles}` : ''}` : '';
  const stageText = stage && stageCount && stageCount > 1 ? `Stage ${stageIndex} of ${stageCount} (${STAGE_LABEL[stage]}${where}) · ` : '';
  const text = `${stageText}${PHASE_LABEL[phase]}: step ${step} of ${total}, ${eta}`;
  return (
    <div className="progress">
      <div className="progress-text" aria-hidden="true">
        <span className="phase">{stageText}{PHASE_LABEL[phase]}</span>
        <span>{step} / {total}</span>
        <span>{etaMs !== null && Number.isFinite(etaMs) ? `ETA ${formatDuration(etaMs)}` : 'ETA …'}</span>
      </div>
      <div
        className="bar"
        role="progressbar"
        aria-label="Generation progress"
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={pct}
        aria-valuetext={text}
      >
        <div className="fill" style={{ width: `${pct}%` }} />
      </div>
    </div>
  );
}

export function LivePreview() {
  const preview = useApp((s) => s.preview);
  const ref = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const c = ref.current;
    if (!c || !preview) return;
    c.width = preview.width;
    c.height = preview.height;
    c.getContext('2d')?.putImageData(new ImageData(new Uint8ClampedArray(preview.rgba), preview.width, preview.height), 0, 0);
  }, [preview]);
  if (!preview) return null;
  return (
    <figure className="preview">
      <canvas ref={ref} role="img" aria-label={`Live preview at step ${preview.step}`} />
      <figcaption>Preview · step {preview.step}</figcaption>
    </figure>
  );
}

/** File name of a stage's video: the base keeps the plain name. */
export const downloadName = (r: ResultInfo) => `lavie-seed${r.meta.seed}${r.stage === 'base' ? '' : `-${r.stage}`}.mp4`;

export function ResultPlayer() {
  const result = useApp((s) => s.result);
  const earlier = useApp((s) => s.earlier);
  const status = useApp((s) => s.status);
  if (!result) return null;
  const { meta } = result;
  return (
    <figure className="result" data-stage={result.stage}>
      <video src={result.url} controls autoPlay loop muted playsInline aria-label="Generated video" width={meta.width} height={meta.height} />
      <figcaption>
        <span>
          {STAGE_LABEL[result.stage]}{!result.final && status === 'generating' ? ' (next stage running)' : ''} · {meta.frames} frames · {meta.width}×{meta.height} · {meta.fps} fps · {meta.codec} · {formatBytes(result.bytes)} · made in {formatDuration(meta.elapsedMs)}
        </span>
        <a className="button primary" href={result.url} download={downloadName(result)}>Download MP4</a>
        {earlier.map((r) => (
          <a key={r.url} className="button secondary" href={r.url} download={downloadName(r)}>Download {STAGE_LABEL[r.stage].toLowerCase()} ({r.meta.frames} frames)</a>
        ))}
      </figcaption>
    </figure>
  );
}

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

export function OutputPanel() {
  const status = useApp((s) => s.status);
  const result = useApp((s) => s.result);
  const preview = useApp((s) => s.preview);
  const empty = !result && !preview && status !== 'generating';
  return (
    <section className="card output" aria-labelledby="output-heading" aria-busy={status === 'generating'}>
      <h2 id="output-heading">Video</h2>
      <ProgressBar />
      {status === 'generating' && !preview && <p className="muted">Working… the first preview appears after the first step.</p>}
      {status === 'generating' && <LivePreview />}
      <ResultPlayer />
      {empty && <p className="muted placeholder">Your video appears here. Describe a scene and press Generate.</p>}
      <p className="sr-only" role="status">{status === 'done' ? 'Video ready.' : status === 'generating' ? 'Generating.' : ''}</p>
    </section>
  );
}

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
