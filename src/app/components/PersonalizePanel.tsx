import { useId, useState } from 'react';
import type { StoredPackInfo } from '../../packs/storage/pack-store.ts';
import type { PersonalizeProgress } from '../../packs/personalize-stored.ts';
import type { PersonalizeMode } from '../../packs/manifest.ts';
import { formatBytes } from '../format.ts';
import { PersonalizeFailed, startPersonalize, type PersonalizeJob } from '../personalize-client.ts';
import { useApp } from '../state.ts';

interface Pick { file: File; multiplier: string }

/**
 * Personalized packs (SD-1.x LoRAs or a fine-tuned checkpoint merged into a stored pack, README
 * "Personalization"): each with what personalized it and a Use button, and a Personalize action on
 * every complete stored pack.
 */
export function PersonalizePanel() {
  const storage = useApp((s) => s.storage);
  if (!storage) return null;
  const complete = storage.packs.filter((p) => p.complete);
  const personalized = complete.filter((p) => p.personalization?.loras.length || p.personalization?.checkpoint);
  return (
    <section className="card personalize" aria-labelledby="personalize-heading">
      <h2 id="personalize-heading">Personalize</h2>
      <p className="muted small">Merge Stable Diffusion 1.x LoRAs or a fine-tuned checkpoint (DreamBooth and the like) into a stored pack. Only the changed weights are written; the rest is shared with the original.</p>
      {personalized.length > 0 && (
        <ul className="stored-packs" aria-label="Personalized packs">
          {personalized.map((p) => <PersonalizedRow key={p.key} p={p} />)}
        </ul>
      )}
      {complete.length === 0 ? <p className="muted">Load a model once to personalize it.</p> : complete.map((p) => <PersonalizeForm key={p.key} base={p} />)}
    </section>
  );
}

function PersonalizedRow({ p }: { p: StoredPackInfo }) {
  const choose = useApp((s) => s.choosePack);
  const busy = useApp((s) => s.status === 'generating' || s.status === 'loading');
  const inUse = useApp((s) => s.packRef.kind === 'stored' && s.packRef.key === p.key && !!s.pack);
  return (
    <li aria-label={`Personalized pack ${p.name}`}>
      <div className="what">
        <strong>{p.name}</strong>
        <span className="muted small">
          {[
            ...(p.personalization!.checkpoint ? [`Checkpoint: ${p.personalization!.checkpoint.name} (${p.personalization!.checkpoint.mode})`] : []),
            ...(p.personalization!.loras.length ? [`LoRAs: ${p.personalization!.loras.map((l) => `${l.name} ×${l.multiplier}`).join(', ')}`] : []),
            `own files ${formatBytes(p.bytes)} of ${formatBytes(p.totalBytes)}`,
          ].join(' · ')}
        </span>
      </div>
      <button type="button" className="secondary" disabled={busy || inUse} onClick={() => void choose({ kind: 'stored', key: p.key, name: p.name })}>{inUse ? 'In use' : 'Use'}</button>
    </li>
  );
}

function PersonalizeForm({ base }: { base: StoredPackInfo }) {
  const refresh = useApp((s) => s.refreshStorage);
  const [open, setOpen] = useState(false);
  const [picks, setPicks] = useState<Pick[]>([]);
  const [skip, setSkip] = useState(false);
  const [kind, setKind] = useState<'lora' | 'checkpoint'>('lora');
  const [ckpt, setCkpt] = useState<File | null>(null);
  const [mode, setMode] = useState<PersonalizeMode>('replace');
  const [sdBase, setSdBase] = useState<File | null>(null);
  const [job, setJob] = useState<PersonalizeJob | null>(null);
  const [progress, setProgress] = useState<PersonalizeProgress | null>(null);
  const [message, setMessage] = useState<{ error: boolean; text: string } | null>(null);
  const id = useId();
  const multipliers = picks.map((p) => Number(p.multiplier));
  const valid = kind === 'lora' ? picks.length > 0 && multipliers.every(Number.isFinite) : !!ckpt && (mode === 'replace' || !!sdBase);
  const go = async () => {
    setMessage(null);
    setProgress(null);
    const j = startPersonalize(base.key, kind === 'checkpoint'
      ? { checkpoint: { file: ckpt!, mode, ...(mode === 'add-difference' && sdBase ? { sdBase } : {}) } }
      : { loras: picks.map((x, i) => ({ name: x.file.name, file: x.file, multiplier: multipliers[i]! })), skipUnmatched: skip }, setProgress);
    setJob(j);
    try {
      const out = await j.done;
      setMessage({ error: false, text: `Created "${out.name}". ${out.lines.join(' ')}` });
      setPicks([]);
      setCkpt(null);
      setSdBase(null);
    } catch (e) {
      const info = e instanceof PersonalizeFailed ? e.info : { code: 'internal', message: String(e) };
      setMessage({ error: info.code !== 'cancelled', text: info.code === 'cancelled' ? 'Cancelled; nothing was changed.' : `${info.message}` });
    } finally {
      setJob(null);
      void refresh();
    }
  };
  const pct = progress && progress.total > 0 ? Math.round((progress.done / progress.total) * 100) : 0;
  const label = !progress ? (kind === 'lora' ? 'Reading the LoRA files…' : 'Reading the checkpoint…')
    : progress.phase === 'read' ? `Reading the checkpoint: ${formatBytes(progress.done)} of ${formatBytes(progress.total)}`
    : progress.phase === 'merge' ? `Merging weights: ${progress.done} of ${progress.total}`
    : `Writing changed files: ${formatBytes(progress.done)} of ${formatBytes(progress.total)}`;
  if (!open) {
    return (
      <div className="source-row">
        <button type="button" className="secondary" onClick={() => setOpen(true)} aria-label={`Personalize ${base.name}`}>Personalize “{base.name}”…</button>
      </div>
    );
  }
  return (
    <form className="personalize-form" aria-label={`Personalize ${base.name}`} onSubmit={(e) => { e.preventDefault(); if (valid && !job) void go(); }}>
      <p className="small"><strong>{base.name}</strong></p>
      <fieldset className="personalize-kind" disabled={!!job}>
        <legend>Personalize with</legend>
        <label className="check"><input type="radio" name={`${id}-kind`} checked={kind === 'lora'} onChange={() => setKind('lora')} /> <span>LoRA</span></label>
        <label className="check"><input type="radio" name={`${id}-kind`} checked={kind === 'checkpoint'} onChange={() => setKind('checkpoint')} /> <span>Fine-tuned checkpoint</span></label>
      </fieldset>
      {kind === 'lora' ? (
        <>
          <label htmlFor={`${id}-files`}>LoRA files (.safetensors)</label>
          <input
            id={`${id}-files`}
            type="file"
            accept=".safetensors"
            multiple
            disabled={!!job}
            onChange={(e) => setPicks([...(e.currentTarget.files ?? [])].map((file) => ({ file, multiplier: '1' })))}
          />
          {picks.map((x, i) => (
            <div className="source-row" key={`${x.file.name}-${i}`}>
              <label htmlFor={`${id}-m${i}`}>Multiplier for {x.file.name}</label>
              <input
                id={`${id}-m${i}`}
                type="number"
                step="0.05"
                value={x.multiplier}
                disabled={!!job}
                onChange={(e) => { const v = e.currentTarget.value; setPicks((ps) => ps.map((q, j) => (j === i ? { ...q, multiplier: v } : q))); }}
              />
            </div>
          ))}
          <label className="check"><input type="checkbox" checked={skip} disabled={!!job} onChange={(e) => setSkip(e.currentTarget.checked)} /> Skip LoRA modules that match no layer</label>
        </>
      ) : (
        <>
          <label htmlFor={`${id}-ckpt`}>Checkpoint file (.safetensors or .ckpt, Stable Diffusion 1.x)</label>
          <input id={`${id}-ckpt`} type="file" accept=".safetensors,.ckpt" disabled={!!job} onChange={(e) => setCkpt(e.currentTarget.files?.[0] ?? null)} />
          <fieldset disabled={!!job}>
            <legend>Mode</legend>
            <label className="check"><input type="radio" name={`${id}-mode`} checked={mode === 'replace'} onChange={() => setMode('replace')} /> <span>Replace</span></label>
            <label className="check"><input type="radio" name={`${id}-mode`} checked={mode === 'add-difference'} onChange={() => setMode('add-difference')} /> <span>Add the difference</span></label>
            <p className="muted small">
              {mode === 'replace'
                ? "LaVie's spatial layers take the checkpoint's weights: nothing else to pick, but LaVie's own fine-tuning of those layers is lost (its temporal layers stay)."
                : "LaVie + (checkpoint − SD-1.4): keeps LaVie's own fine-tuning, but needs the Stable Diffusion 1.4 file the checkpoint was trained from."}
            </p>
          </fieldset>
          {mode === 'add-difference' && (
            <>
              <label htmlFor={`${id}-sd`}>SD-1.4 file (sd-v1-4.ckpt / .safetensors, or unet/diffusion_pytorch_model.safetensors)</label>
              <input id={`${id}-sd`} type="file" accept=".safetensors,.ckpt" disabled={!!job} onChange={(e) => setSdBase(e.currentTarget.files?.[0] ?? null)} />
            </>
          )}
        </>
      )}
      <div className="source-row">
        <button type="submit" disabled={!valid || !!job}>{kind === 'lora' ? 'Apply LoRAs' : 'Apply checkpoint'}</button>
        {job ? <button type="button" className="secondary" onClick={() => job.cancel()}>Cancel personalization</button> : <button type="button" className="secondary" onClick={() => { setOpen(false); setMessage(null); }}>Close</button>}
      </div>
      {job && (
        <div className="progress">
          <div className="bar" role="progressbar" aria-label="Personalization progress" aria-valuemin={0} aria-valuemax={100} aria-valuenow={pct} aria-valuetext={label}>
            <div className="fill" style={{ width: `${pct}%` }} />
          </div>
          <p className="muted small">{label}</p>
        </div>
      )}
      {message && <p className={message.error ? 'banner warn' : 'muted small'} role={message.error ? 'alert' : 'status'}>{message.text}</p>}
    </form>
  );
}
