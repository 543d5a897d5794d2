// The Model panel's catalogue entry "LaVie (official weights)": choose the stages and the weight
// precision, see what it downloads and keeps, and one button downloads the public checkpoints from the
// Hugging Face Hub, converts them in a worker (the converter of `npm run convert`) and loads the pack.
// The same conversion from files on this computer (.pt files and Stable Diffusion folders).
import { useEffect, useId, useRef, useState } from 'react';
import { STAGE_CHOICES, type Precisions } from '../../convert/catalogue.ts';
import type { WeightPrecision } from '../../convert/graphs/weights.ts';
import type { ConvertJobSpec, ConvertProgress, LocalFolders, PendingJob } from '../../packs/convert-official.ts';
import { DEFAULT_HUB_ENDPOINT } from '../../packs/download/hub.ts';
import { ERRORS, toErrorInfo, type ErrorInfo } from '../../protocol/errors.ts';
import { deviceHasF16, discardConversion, pendingConversions, planConversion, startConversion, type ConversionRun, type PlanInfo } from '../convert-client.ts';
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

/** Test and small-checkpoint hook: `?convert-latent=8x8` converts for another base latent size. */
function latentOverride(): ConvertJobSpec['latent'] | undefined {
  const m = /^(\d+)x(\d+)$/.exec(new URLSearchParams(location.search).get('convert-latent') ?? '');
  return m ? { height: Number(m[1]), width: Number(m[2]) } : undefined;
}

/** Files picked in a folder input, keyed by their path inside the picked folder. */
function folderOf(list: FileList | null): Map<string, Blob> | undefined {
  if (!list?.length) return undefined;
  return new Map([...list].map((f) => [((f as File & { webkitRelativePath?: string }).webkitRelativePath || f.name).split('/').slice(1).join('/') || f.name, f]));
}

/** Files (and folders, recursively) dropped on the page, keyed by path (the dropped folder's name first). */
async function droppedFiles(dt: DataTransfer): Promise<Map<string, File>> {
  const out = new Map<string, File>();
  type Entry = { isFile: boolean; isDirectory: boolean; name: string; file?(cb: (f: File) => void, err: (e: unknown) => void): void; createReader?(): { readEntries(cb: (e: Entry[]) => void, err: (e: unknown) => void): void } };
  const walk = async (e: Entry, prefix: string): Promise<void> => {
    if (e.isFile && e.file) out.set(prefix + e.name, await new Promise<File>((res, rej) => e.file!(res, rej)));
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

/** Sort dropped files into the LaVie checkpoints and the two Stable Diffusion folders (by their configs and names). */
function sortDropped(files: Map<string, File>): LocalFolders {
  const out: LocalFolders = {};
  const roots = new Map<string, Map<string, Blob>>();
  for (const [path, f] of files) {
    if (/^lavie_(base|interpolation|vsr)\.pt$/.test(f.name)) (out.lavie ??= new Map()).set(f.name, f);
    else if (path.includes('/')) {
      const [root, ...rest] = path.split('/');
      if (!roots.has(root!)) roots.set(root!, new Map());
      roots.get(root!)!.set(rest.join('/'), f);
    }
  }
  for (const [root, m] of roots) {
    if (/x4|upscal/i.test(root) || m.has('low_res_scheduler/scheduler_config.json')) out.x4 = m;
    else out.sd14 = m;
  }
  return out;
}

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
  const [local, setLocal] = useState<LocalFolders>({});
  const resumed = useRef(false);
  const [open, setOpen] = useState(false);

  const spec = (): ConvertJobSpec => {
    const latent = latentOverride();
    return { source: 'hub', stages, precisions: precisionsFor(precision), keepOriginals: keep, hub: { endpoint: endpoint.trim() }, ...(latent ? { latent } : {}) };
  };

  const go = async (s: ConvertJobSpec, files?: LocalFolders) => {
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
      setMessage(info.code === 'cancelled' ? { text: 'Cancelled. Downloaded files are kept: Resume continues where it stopped.' } : { error: info, text: info.message });
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

  const sizes = plan && 'download' in plan ? plan : null;
  const planError = plan && 'code' in plan ? plan : null;
  const pct = progress ? Math.round(progress.fraction * 100) : 0;
  const eta = progress?.etaMs !== undefined ? ` · about ${formatDuration(progress.etaMs)} left` : '';
  const amount = progress && progress.total > 1 ? (progress.phase === 'list' ? ` ${progress.done} of ${progress.total} repositories` : ` ${formatBytes(progress.done)} of ${formatBytes(progress.total)}`) : '';
  const status = progress ? `${PHASE_TEXT[progress.phase]}${progress.item ? ` ${progress.item}` : ''}:${amount}${eta}` : 'Starting…';
  const localReady = !!local.lavie?.has('lavie_base.pt') && !!local.sd14 && (!stages.includes('vsr') || (!!local.x4 && !!local.lavie.has('lavie_vsr.pt'))) && (!stages.includes('interp') || !!local.lavie.has('lavie_interpolation.pt'));

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
              <div className="what"><strong>Unfinished: {STAGE_CHOICES.find((c) => c.id === j.spec.stages)?.label ?? j.spec.stages}, {j.spec.precisions.unet}</strong>{j.error && <span className="muted small">{j.error.message}</span>}</div>
              <button type="button" className="secondary" onClick={() => void go(j.spec)}>Resume</button>
              <button type="button" className="secondary" onClick={() => void discardConversion(j.key).then(() => pendingConversions()).then(setPending)}>Discard</button>
            </li>
          ))}
        </ul>
      )}
      <details
        className="local-convert"
        onDragOver={(e) => e.preventDefault()}
        onDrop={(e) => { e.preventDefault(); void droppedFiles(e.dataTransfer).then((f) => setLocal((l) => ({ ...l, ...sortDropped(f) }))); }}
      >
        <summary>From files on this computer</summary>
        <p className="muted small">Pick (or drop here) lavie_base.pt (and lavie_interpolation.pt, lavie_vsr.pt for the other stages) and the stable-diffusion-v1-4 folder (diffusers layout, .bin or .safetensors); for high resolution also the stable-diffusion-x4-upscaler folder.</p>
        <label htmlFor={`${id}-pt`}>LaVie checkpoints (.pt)</label>
        <input id={`${id}-pt`} type="file" accept=".pt" multiple disabled={!!run} onChange={(e) => { const l = e.currentTarget.files; setLocal((x) => ({ ...x, lavie: new Map([...(l ?? [])].map((f) => [f.name, f])) })); }} />
        <label htmlFor={`${id}-sd`}>stable-diffusion-v1-4 folder</label>
        <input id={`${id}-sd`} type="file" disabled={!!run} {...{ webkitdirectory: '', directory: '' }} onChange={(e) => { const m = folderOf(e.currentTarget.files); setLocal((x) => ({ ...x, sd14: m })); }} />
        <label htmlFor={`${id}-x4`}>stable-diffusion-x4-upscaler folder (high resolution only)</label>
        <input id={`${id}-x4`} type="file" disabled={!!run} {...{ webkitdirectory: '', directory: '' }} onChange={(e) => { const m = folderOf(e.currentTarget.files); setLocal((x) => ({ ...x, x4: m })); }} />
        <p className="muted small">{[local.lavie && `${local.lavie.size} checkpoint(s)`, local.sd14 && `SD v1-4: ${local.sd14.size} files`, local.x4 && `x4 upscaler: ${local.x4.size} files`].filter(Boolean).join(' · ') || 'Nothing chosen yet.'}</p>
        <button type="button" disabled={!!run || busyApp || !localReady} onClick={() => { const latent = latentOverride(); void go({ source: 'local', stages, precisions: precisionsFor(precision), ...(latent ? { latent } : {}) }, local); }}>Convert these files</button>
      </details>
      </section>
    </details>
  );
}
