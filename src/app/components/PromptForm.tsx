// The generation form: prompt, settings, stages, Generate/Cancel. Accessible names are part of the
// contract (e2e tests use getByLabel / getByRole).
import { useEffect, useId, useState, type FormEvent } from 'react';
import { GPU_MEMORY_CHOICES, LIMITS, LONG_VIDEO_SAMPLER, PROMPT_TEXT_TOKENS, SAMPLERS, interpolatedFrames, isLongVideo, lavieOption, memoryFit, type NumberLimit } from '../../protocol.ts';
import { formatBytes } from '../format.ts';
import { Collapsible } from './Collapsible.tsx';
import { ExamplePrompts } from './ExamplePrompts.tsx';
import { GenerateBlocked } from './GenerateBlocked.tsx';
import { JobEstimate } from './JobEstimate.tsx';
import { LongVideoControls } from './LongVideoControls.tsx';
import { countPromptTokens, useApp } from '../state.ts';

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
  const loaded = useApp((s) => s.pack !== null);
  const pack16 = useApp((s) => s.pack?.frames ?? LIMITS.frames.min);

  const onSubmit = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    void generate();
  };

  return (
    // noValidate: the request contract checks every field and names the wrong one (a closed Advanced
    // section would hide the browser's own message).
    <form className="card form" onSubmit={onSubmit} aria-label="Generation settings" noValidate>
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
      <ExamplePrompts />
      <fieldset className="stages">
        <legend>Stages</legend>
        <label className="check">
          <input type="checkbox" checked={form.interpolate && !!interp} disabled={!interp} onChange={(e) => setField('interpolate', e.target.checked)} />
          <span>Smoother ({interp ? interpolatedFrames(Number(form.frames) || pack16) : 61} frames){interp ? ` · ${interp.fps} fps` : ' · not in this pack'}</span>
        </label>
        <label className="check">
          <input type="checkbox" checked={form.superResolve && !!vsr} disabled={!vsr} onChange={(e) => setField('superResolve', e.target.checked)} />
          <span>High resolution ({vsr ? `${vsr.width}×${vsr.height}` : '1280×2048'}){vsr ? '' : ' · not in this pack'}</span>
        </label>
        {form.superResolve && vsr && <VsrWarning />}
        <MemoryFit />
      </fieldset>
      {/* Length and prompt ranges live in Advanced: LaVie's 16 frames is the usual choice, and Generate must stay on the first screen. */}
      <Collapsible panel="advanced" title="Advanced" className="advanced" level={3} folded={`${isLongVideo(Number(form.frames)) ? `${form.frames} frames · ` : ''}${form.sampler} · ${form.steps} steps · guidance ${form.guidanceScale} · ${form.newSeed ? 'new seed each run' : `seed ${form.seed}`}${form.negativePrompt.trim() ? ' · negative prompt' : ''}`}>
        <div className="advanced-fields">
          <LongVideoControls />
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
              <label className="check">
                <input type="checkbox" checked={form.newSeed} onChange={(e) => setField('newSeed', e.target.checked)} />
                <span>New seed each run</span>
              </label>
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
                {/* A long video (Length above 16) takes DDIM only (the contract's rule). */}
                {SAMPLERS.map((s) => <option key={s} value={s} disabled={isLongVideo(Number(form.frames)) && s !== LONG_VIDEO_SAMPLER}>{s}</option>)}
              </select>
            </div>
          </div>
          <div className="field">
            <label htmlFor={`${id}-gpumem`}>GPU memory</label>
            <select id={`${id}-gpumem`} value={form.gpuMemory} onChange={(e) => setField('gpuMemory', e.target.value as typeof form.gpuMemory)}>
              <option value="">not set</option>
              {GPU_MEMORY_CHOICES.map((g) => <option key={g} value={String(g)}>{g} GB</option>)}
            </select>
          </div>
        </div>
      </Collapsible>
      <JobEstimate />
      <div className="actions">
        <button type="submit" className="primary" disabled={busy || !loaded} aria-describedby={loaded ? undefined : `${id}-why`}>Generate</button>
        <button type="button" className="secondary" onClick={cancel} disabled={status !== 'generating'}>Cancel</button>
      </div>
      <GenerateBlocked id={`${id}-why`} />
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
  const vsr = pack?.stages.vsr;
  if (!pack || !vsr) return null;
  const base = Number(form.frames) || pack.frames;
  const frames = form.interpolate && pack.stages.interp ? interpolatedFrames(base) : base;
  const windows = Math.ceil(frames / 8);
  const calls = windows * vsr.tiles * vsr.steps;
  const limit = pack.adapter?.maxBufferSize;
  const need = vsr.largestTensorBytes;
  return (
    <div className="banner warn vsr-warning" role="note" aria-label="Super-resolution estimate">
      <strong>High resolution is slow: it can take many times longer than the video itself.</strong>
      {need && limit && need > limit ? <span className="too-large">This graphics card cannot hold it: the run would fail. Leave High resolution off here.</span> : null}
      <details className="tech-details">
        <summary>Technical details</summary>
        <span>
          {plural(windows, 'window')} × {plural(vsr.tiles, 'tile')} × {plural(vsr.steps, 'step')} = {plural(calls, 'UNet call')}, then {frames} frames through the ×{vsr.scale} decoder.
          {need ? ` Largest GPU buffer: ${formatBytes(need)}${limit ? ` (this GPU allows ${formatBytes(limit)}${need > limit ? ' — too large, the run will fail' : ''})` : ''}.` : ''}
        </span>
      </details>
    </div>
  );
}

/** Before a run: whether the chosen option fits the "GPU memory" setting (estimates from the pack's
 * graphs, PackInfo.memory) and which option to pick instead. */
export function MemoryFit() {
  const pack = useApp((s) => s.pack);
  const form = useApp((s) => s.form);
  if (!pack?.memory || !form.gpuMemory) return null;
  const option = lavieOption({ interpolate: form.interpolate && !!pack.stages.interp, superResolve: form.superResolve && !!pack.stages.vsr });
  const fit = memoryFit(pack.memory, option, Number(form.gpuMemory) * 1e9);
  return (
    <p className={`memory-fit ${fit.fits ? 'muted' : 'warning'}`} data-fits={fit.fits}>
      {fit.fits ? `Fits: about ${formatBytes(fit.peakBytes)} of GPU memory at most.`
        : `Needs about ${formatBytes(fit.peakBytes)} of GPU memory, more than ${form.gpuMemory} GB: ${fit.instead ? `choose LaVie option ${fit.instead.option} (${OPTION_LABEL[fit.instead.option]}, about ${formatBytes(fit.instead.peakBytes)}) instead` : 'no option of this model fits'}.`}
    </p>
  );
}

const OPTION_LABEL = { 1: 'base video', 2: 'smoother', 3: 'high resolution', 4: 'smoother + high resolution' } as const;
