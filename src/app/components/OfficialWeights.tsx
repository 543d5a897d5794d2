// The Model panel's catalogue entry "LaVie (official weights)": choose the stages and the weight
// precision, see what it downloads and keeps, and one button downloads the public checkpoints from the
// Hugging Face Hub, converts them in a worker (the converter of `npm run convert`) and loads the pack.
// The same conversion from files on this computer (.pt files and Stable Diffusion folders).
import { useEffect, useId, useRef, useState } from 'react';
import { STAGE_CHOICES, type Precisions } from '../../convert/catalogue.ts';
import type { WeightPrecision } from '../../convert/graphs/weights.ts';
import type { ConvertJobSpec, ConvertProgress, PendingJob } from '../../packs/convert-official.ts';
import type { PickedFile } from '../../packs/local-inputs.ts';
import { DEFAULT_HUB_ENDPOINT } from '../../packs/download/hub.ts';
import { ERRORS, toErrorInfo, type ErrorInfo } from '../../protocol/errors.ts';
import { deviceHasF16, discardConversion, pendingConversions, planConversion, sortLocalFiles, startConversion, type ConversionRun, type PlanInfo, type SortedInfo } from '../convert-client.ts';
import { formatBytes, formatDuration } from '../format.ts';
import { useApp } from '../state.ts';

const PRECISIONS: readonly { id: WeightPrecision; label: string }[] = [
  { id: 'fp16', label: 'fp16 (full quality)' },
  { id: 'int8', label: 'int8 (half the size)' },
  { id: 'int4', label: 'int4 (smallest)' },
];

/** The UNets take the chosen precision; the VAE and text encoder stay at fp16 (small, sensitive). */
const precisionsFor = (p: WeightPrecision): Precisions => ({ unet: p, vae: p === 'fp32' ? 'fp32' : 'fp16', text: p === 'fp32' ? 'fp32' : 'fp16' });

const PHASE_TEXT: Record<ConvertProgress['phase'], string> = {
  list: 'Listing the files on the model site',
  download: 'Downloading',
  convert: 'Converting',
  verify: 'Checking the converted files',
  done: 'Done',
};

/** Files from a file or folder input, with their path (a folder's files: the folder's name first). */
function pickedOf(list: FileList | null): PickedFile[] {
  return [...(list ?? [])].map((f) => ({ path: (f as File & { webkitRelativePath?: string }).webkitRelativePath || f.name, file: f }));
}

/** Files (and folders, recursively) dropped on the page, with their path (the dropped folder's name first). */
async function droppedFiles(dt: DataTransfer): Promise<PickedFile[]> {
  const out: PickedFile[] = [];
  type Entry = { isFile: boolean; isDirectory: boolean; name: string; file?(cb: (f: File) => void, err: (e: unknown) => void): void; createReader?(): { readEntries(cb: (e: Entry[]) => void, err: (e: unknown) => void): void } };
  const walk = async (e: Entry, prefix: string): Promise<void> => {
    if (e.isFile && e.file) out.push({ path: prefix + e.name, file: await new Promise<File>((res, rej) => e.file!(res, rej)) });
    else if (e.isDirectory && e.createReader) {
      const r = e.createReader();
      for (;;) {
        const batch = await new Promise<Entry[]>((res, rej) => r.readEntries(res, rej));
        if (!batch.length) break;
        for (const c of batch) await walk(c, `${prefix}${e.name}/`);
      }
    }
  };
  const entries = [...dt.items].map((i) => (i as DataTransferItem & { webkitGetAsEntry?(): Entry | null }).webkitGetAsEntry?.()).filter(Boolean) as Entry[];
  for (const e of entries) await walk(e, '');
  return out;
}

/** Add picked files to those chosen before (the same path again replaces the earlier file). */
const addPicked = (before: PickedFile[], more: PickedFile[]) => [...new Map([...before, ...more].map((f) => [f.path, f])).values()];

export function OfficialWeights() {
  const choose = useApp((s) => s.choosePack);
  const refresh = useApp((s) => s.refreshStorage);
  const busyApp = useApp((s) => s.status === 'generating');
  const id = useId();
  const [stages, setStages] = useState('base');
  const [precision, setPrecision] = useState<WeightPrecision>('fp16');
  const [suggested, setSuggested] = useState<WeightPrecision | null>(null);
  const [endpoint, setEndpoint] = useState('');
  const [keep, setKeep] = useState(false);
  const [plan, setPlan] = useState<PlanInfo | ErrorInfo | null>(null);
  const [run, setRun] = useState<ConversionRun | null>(null);
  const [progress, setProgress] = useState<ConvertProgress | null>(null);
  const [message, setMessage] = useState<{ error?: ErrorInfo; text: string } | null>(null);
  const [pending, setPending] = useState<PendingJob[]>([]);
  const [picked, setPicked] = useState<PickedFile[]>([]);
  const [sorted, setSorted] = useState<SortedInfo | ErrorInfo | null>(null);
  const resumed = useRef(false);
  const [open, setOpen] = useState(false);

  const spec = (): ConvertJobSpec => ({ source: 'hub', stages, precisions: precisionsFor(precision), keepOriginals: keep, hub: { endpoint: endpoint.trim() } });

  const go = async (s: ConvertJobSpec, files?: PickedFile[]) => {
    setMessage(null);
    setProgress(null);
    const r = startConversion(s, setProgress, files);
    setRun(r);
    try {
      const out = await r.done;
      setMessage({ text: `Converted "${out.name}". Loading it…` });
      await refresh();
      await choose({ kind: 'stored', key: out.key, name: out.name });
    } catch (e) {
      const info = toErrorInfo(e);
      setMessage(info.code === 'cancelled' ? { text: 'Cancelled. Downloaded files and the parts already converted are kept: Resume continues where it stopped.' } : { error: info, text: info.message });
    } finally {
      setRun(null);
      setPending(await pendingConversions().catch(() => []));
      void refresh();
    }
  };

  // Once: the device's suggestion, and unfinished jobs (an interrupted one resumes by itself).
  useEffect(() => {
    void deviceHasF16().then((f16) => {
      setSuggested(f16 ? 'fp16' : 'int8');
      setPrecision(f16 ? 'fp16' : 'int8');
    });
    void pendingConversions().then((jobs) => {
      setPending(jobs);
      const interrupted = jobs.find((j) => j.spec.source === 'hub' && !j.cancelled && !j.error);
      if (interrupted && !resumed.current) {
        resumed.current = true;
        void go(interrupted.spec);
      }
    }).catch(() => undefined);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  // What this choice downloads and keeps, from the repos' listing.
  useEffect(() => {
    if (!open) return; // nothing is asked of the model site before the visitor looks
    let live = true;
    setPlan(null);
    const t = setTimeout(() => void planConversion(spec()).then((p) => live && setPlan(p), (e) => live && setPlan(toErrorInfo(e))), 300);
    return () => { live = false; clearTimeout(t); };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [open, stages, precision, endpoint]);

  // Which picked files are which, and what the chosen stages still need from them.
  useEffect(() => {
    if (!picked.length) return setSorted(null);
    let live = true;
    setSorted(null);
    void sortLocalFiles(stages, picked).then((s) => live && setSorted(s), (e) => live && setSorted(toErrorInfo(e)));
    return () => { live = false; };
  }, [picked, stages]);

  const sizes = plan && 'download' in plan ? plan : null;
  const planError = plan && 'code' in plan ? plan : null;
  const pct = progress ? Math.round(progress.fraction * 100) : 0;
  const eta = progress?.etaMs !== undefined ? ` · about ${formatDuration(progress.etaMs)} left` : '';
  const amount = progress && progress.total > 1 ? (progress.phase === 'list' ? ` ${progress.done} of ${progress.total} repositories` : ` ${formatBytes(progress.done)} of ${formatBytes(progress.total)}`) : '';
  const kept = progress?.kept?.length && progress.phase === 'convert' ? ` (continuing after an interruption: ${progress.kept.join(', ')} already converted)` : '';
  const status = progress ? `${PHASE_TEXT[progress.phase]}${progress.item ? ` ${progress.item}` : ''}${progress.reading ? ` (reading ${progress.reading})` : ''}:${amount}${eta}${kept}` : 'Starting…';
  const localInfo = sorted && 'found' in sorted ? sorted : null;
  const localReady = !!localInfo && localInfo.missing.length === 0;
  const localSpec = (): ConvertJobSpec => ({ source: 'local', stages, precisions: precisionsFor(precision) });

  return (
    <details className="official" open={open || !!run || undefined} onToggle={(e) => setOpen(e.currentTarget.open)}>
      <summary id={`${id}-h`}>LaVie (official weights)</summary>
      <section aria-labelledby={`${id}-h`}>
      <p className="muted small">The published LaVie checkpoints (YaohuiW/LaVie) with Stable Diffusion v1-4{stages.includes('vsr') ? ' and the x4 upscaler' : ''}, downloaded from the model site and converted here, in this browser. Licences: see each model's page.</p>
      <fieldset disabled={!!run}>
        <legend>Stages</legend>
        {STAGE_CHOICES.map((c) => (
          <label key={c.id} className="check"><input type="radio" name={`${id}-stages`} value={c.id} checked={stages === c.id} onChange={() => setStages(c.id)} /> {c.label}</label>
        ))}
      </fieldset>
      <div className="source-row">
        <label htmlFor={`${id}-prec`}>Weight precision</label>
        <select id={`${id}-prec`} value={precision} disabled={!!run} onChange={(e) => setPrecision(e.currentTarget.value as WeightPrecision)}>
          {PRECISIONS.map((p) => <option key={p.id} value={p.id}>{p.label}{p.id === suggested ? ' — suggested for this device' : ''}</option>)}
        </select>
      </div>
      <p className="muted small" role="note" aria-label="Download and storage">
        {sizes ? `Download ${formatBytes(sizes.download - sizes.cached)}${sizes.cached ? ` (${formatBytes(sizes.cached)} already here)` : ''} · stored model about ${formatBytes(sizes.stored)}${keep ? ` · originals kept: ${formatBytes(sizes.download)}` : ''}` : planError ? `Sizes unknown: ${planError.message}` : 'Listing the files…'}
      </p>
      <details>
        <summary>Options</summary>
        <label className="check"><input type="checkbox" checked={keep} disabled={!!run} onChange={(e) => setKeep(e.currentTarget.checked)} /> Keep the downloaded originals</label>
        <div className="source-row">
          <label htmlFor={`${id}-ep`}>Model site address</label>
          <input id={`${id}-ep`} type="url" placeholder={import.meta.env.VITE_HUB_ENDPOINT || DEFAULT_HUB_ENDPOINT} value={endpoint} disabled={!!run} onChange={(e) => setEndpoint(e.currentTarget.value)} />
        </div>
      </details>
      <div className="source-row">
        <button type="button" disabled={!!run || busyApp} onClick={() => void go(spec())}>Download and convert</button>
        {run && <button type="button" className="secondary" onClick={() => run.cancel()}>Cancel conversion</button>}
      </div>
      {run && (
        <div className="progress">
          <div className="bar" role="progressbar" aria-label="Conversion progress" aria-valuemin={0} aria-valuemax={100} aria-valuenow={pct} aria-valuetext={status}>
            <div className="fill" style={{ width: `${pct}%` }} />
          </div>
          <p className="muted small">{status}</p>
        </div>
      )}
      {message && (message.error ? (
        <div className="banner warn" role="alert" data-code={message.error.code}>
          <strong>{ERRORS[message.error.code].message}</strong> <span className="message">{message.text}</span> <span>{ERRORS[message.error.code].next}</span>
        </div>
      ) : <p className="muted small" role="status">{message.text}</p>)}
      {!run && pending.length > 0 && (
        <ul className="stored-packs" aria-label="Unfinished conversions">
          {pending.map((j) => (
            <li key={j.key} aria-label={`Unfinished conversion ${j.spec.stages}`}>
              <div className="what"><strong>Unfinished: {STAGE_CHOICES.find((c) => c.id === j.spec.stages)?.label ?? j.spec.stages}, {j.spec.precisions.unet}</strong>{j.error && <span className="muted small">{j.error.message}</span>}<span className="muted small">{j.kept ? `Stopped after converting ${j.kept.join(', ')} (kept: ${j.spec.source === 'local' ? 'choose the same files again below, then Convert again' : 'Resume'} continues with the rest).` : j.spec.source === 'local' ? 'Choose the same files again below, then Convert again.' : 'Stopped before converting: Resume continues the downloads where they stopped.'}</span></div>
              {j.spec.source === 'local'
                ? <button type="button" className="secondary" disabled={!localReady} title="Choose the same files again below" onClick={() => void go(j.spec, picked)}>Convert again</button>
                : <button type="button" className="secondary" onClick={() => void go(j.spec)}>Resume</button>}
              <button type="button" className="secondary" onClick={() => void discardConversion(j.key).then(() => pendingConversions()).then(setPending)}>Discard</button>
            </li>
          ))}
        </ul>
      )}
      <details
        className="local-convert"
        onDragOver={(e) => e.preventDefault()}
        onDrop={(e) => { e.preventDefault(); void droppedFiles(e.dataTransfer).then((f) => setPicked((p) => addPicked(p, f))); }}
      >
        <summary>From files on this computer</summary>
        <p className="muted small">Pick (or drop here) lavie_base.pt (and lavie_interpolation.pt, lavie_vsr.pt for the other stages) and the stable-diffusion-v1-4 folder as downloaded from huggingface.co (diffusers layout, .bin or .safetensors); for high resolution also the stable-diffusion-x4-upscaler folder. A folder holding all of them works too. Which file is which is found from names and contents.</p>
        <div className="source-row">
          <label htmlFor={`${id}-pt`}>LaVie checkpoints (.pt files)</label>
          <input id={`${id}-pt`} type="file" multiple disabled={!!run} onChange={(e) => { const f = pickedOf(e.currentTarget.files); setPicked((p) => addPicked(p, f)); }} />
        </div>
        <div className="source-row">
          <label htmlFor={`${id}-dir`}>A model folder</label>
          <input id={`${id}-dir`} type="file" disabled={!!run} {...{ webkitdirectory: '', directory: '' }} onChange={(e) => { const f = pickedOf(e.currentTarget.files); setPicked((p) => addPicked(p, f)); }} />
        </div>
        <div className="muted small" role="status" aria-label="Chosen files">
          {!picked.length ? 'Nothing chosen yet.' : !sorted ? `${picked.length} files chosen; looking at them…` : 'code' in sorted ? sorted.message : (
            <>
              <ul>{sorted.found.map((f) => <li key={f}>{f}</li>)}</ul>
              {sorted.unknown.length > 0 && <p>Not recognized (not used): {sorted.unknown.join(', ')}</p>}
              {sorted.missing.length > 0 ? <p>Still needed for this choice: {sorted.missing.join('; ')}</p> : <p>Ready to convert.</p>}
            </>
          )}
        </div>
        <div className="source-row">
          <button type="button" disabled={!!run || busyApp || !localReady} onClick={() => void go(localSpec(), picked)}>Convert these files</button>
          {picked.length > 0 && <button type="button" className="secondary" disabled={!!run} onClick={() => setPicked([])}>Clear the chosen files</button>}
        </div>
      </details>
      </section>
    </details>
  );
}
