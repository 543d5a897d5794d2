// Long videos in the form (issue 18): the base "Length" (FreeNoise, LIMITS.frames, the lengths the pack
// offers) and "Prompts over frame ranges". Rules and messages are the request contract's: the
// length's (offered, DDIM) through validateRequest, the ranges' through segmentsProblem — shown
// inline as the user edits. Accessible names are part of the contract (e2e/long-video.spec.ts).
import { useId } from 'react';
import { LIMITS, LONG_VIDEO_SAMPLER, interpolatedFrames, isLongVideo, segmentsProblem, validateRequest, type PackInfo } from '../../protocol.ts';
import { lengthChoices, layoutRanges, maxRanges, type RangeField } from '../long-video.ts';
import { useApp, type FormFields } from '../state.ts';

const num = (s: string) => (s.trim() === '' ? Number.NaN : Number(s));

/** The contract's word on the length alone (offered by the pack, DDIM above 16), or null. */
function lengthProblem(form: FormFields, pack: PackInfo | null): string | null {
  const probe = { prompt: 'x', negativePrompt: '', seed: 0, steps: 1, guidanceScale: 1, sampler: form.sampler, frames: num(form.frames) };
  const bad = validateRequest(probe, pack ?? undefined, { needsId: false });
  return bad?.field === 'frames' ? bad.message : null;
}

/** The contract's word on the ranges for this length, or null. */
function rangesProblem(form: FormFields): string | null {
  if (!form.segments.length) return null;
  const why = segmentsProblem(form.segments.map((g) => ({ prompt: g.prompt, from: num(g.from), to: num(g.to) })), num(form.frames));
  return why ? `Prompts over frame ranges ${why}.` : null;
}

export function LongVideoControls() {
  const form = useApp((s) => s.form);
  const pack = useApp((s) => s.pack);
  const busy = useApp((s) => s.status === 'generating' || s.status === 'loading');
  const setField = useApp((s) => s.setField);
  const id = useId();
  const frames = num(form.frames);
  const long = isLongVideo(frames);
  const lengthError = lengthProblem(form, pack);
  const rangesError = rangesProblem(form);
  const fps = pack?.fps ?? 8;
  const smoother = form.interpolate && !!pack?.stages.interp;

  const setRanges = (segments: RangeField[]) => setField('segments', segments);
  const prompts = form.segments.map((g) => g.prompt);
  const chooseLength = (value: string) => {
    setField('frames', value);
    // FreeNoise needs DDIM: choosing a long video selects it (the sampler list offers nothing else then).
    if (isLongVideo(num(value)) && form.sampler !== LONG_VIDEO_SAMPLER) setField('sampler', LONG_VIDEO_SAMPLER);
    if (form.segments.length) setRanges(layoutRanges(form.segments.length, num(value), prompts));
  };
  const addRange = () => setRanges(form.segments.length ? layoutRanges(form.segments.length + 1, frames, prompts) : layoutRanges(2, frames, [form.prompt.trim()]));
  const removeRange = (i: number) => setRanges(layoutRanges(form.segments.length - 1, frames, prompts.filter((_, k) => k !== i)));
  const editRange = (i: number, patch: Partial<RangeField>) => setRanges(form.segments.map((g, k) => (k === i ? { ...g, ...patch } : g)));
  const canAdd = Number.isFinite(frames) && form.segments.length < maxRanges(frames) && (form.segments.length > 0 || maxRanges(frames) >= 2);

  return (
    <div className="long-video">
      <div className="field">
        <label htmlFor={`${id}-length`}>Length</label>
        <select id={`${id}-length`} value={form.frames} disabled={busy} aria-describedby={`${id}-length-why${lengthError ? ` ${id}-length-error` : ''}`} aria-invalid={lengthError ? true : undefined} onChange={(e) => chooseLength(e.target.value)}>
          {lengthChoices(pack?.lengths).map((c) => (
            <option key={c.frames} value={String(c.frames)} disabled={!c.offered}>
              {c.frames} frames ({(c.frames / fps).toFixed(1)} s){c.frames === LIMITS.frames.min ? ' · LaVie' : ''}{c.offered ? '' : ' · not in this model'}
            </option>
          ))}
        </select>
        <p id={`${id}-length-why`} className="muted small length-why">
          LaVie makes {LIMITS.frames.min} frames; longer videos (up to {LIMITS.frames.max}, in steps of {LIMITS.frames.step}) use FreeNoise's {LIMITS.frames.min}-frame windows.
          {' '}Longer than {LIMITS.frames.min} needs the DDIM sampler{long ? ' (selected)' : ''}; the cost grows with the length
          {long ? `: ${frames} frames take about ${(frames / LIMITS.frames.min).toFixed(2).replace(/\.?0+$/, '')}× the base stage's time of ${LIMITS.frames.min}` : ''}.
          {smoother && Number.isFinite(frames) ? ` With Smoother: ${interpolatedFrames(frames)} frames (4 × ${frames} − 3).` : ''}
        </p>
        {lengthError && <p id={`${id}-length-error`} className="field-error small" aria-live="polite">{lengthError}</p>}
      </div>

      <fieldset className="ranges" disabled={busy}>
        <legend>Prompts over frame ranges</legend>
        <p id={`${id}-ranges-why`} className="muted small">
          {form.segments.length
            ? `Each range of base frames gets its own prompt (in order from frame 0, each at least ${LIMITS.segmentFrames} frames, together covering all ${Number.isFinite(frames) ? frames : ''} frames); the change between them is gradual. The prompt above names the video.`
            : `Optional: a different prompt for each range of base frames, e.g. "a cat walks" then "a cat sits" (each range at least ${LIMITS.segmentFrames} frames, so a length of ${2 * LIMITS.segmentFrames} or more).`}
        </p>
        {form.segments.map((g, i) => (
          <div className="range" role="group" aria-label={`Range ${i + 1}`} key={i}>
            <div className="field range-prompt">
              <label htmlFor={`${id}-r${i}-prompt`}>Range {i + 1} prompt</label>
              <input id={`${id}-r${i}-prompt`} type="text" maxLength={LIMITS.promptChars} value={g.prompt} onChange={(e) => editRange(i, { prompt: e.target.value })} />
            </div>
            <div className="field range-frame">
              <label htmlFor={`${id}-r${i}-from`}>Range {i + 1} from frame</label>
              <input id={`${id}-r${i}-from`} type="number" inputMode="numeric" min={0} max={LIMITS.frames.max - 1} step={1} value={g.from} onChange={(e) => editRange(i, { from: e.target.value })} />
            </div>
            <div className="field range-frame">
              <label htmlFor={`${id}-r${i}-to`}>Range {i + 1} to frame</label>
              <input id={`${id}-r${i}-to`} type="number" inputMode="numeric" min={0} max={LIMITS.frames.max - 1} step={1} value={g.to} onChange={(e) => editRange(i, { to: e.target.value })} />
            </div>
            <button type="button" className="secondary" aria-label={`Remove range ${i + 1}`} onClick={() => removeRange(i)}>Remove</button>
          </div>
        ))}
        <div className="actions">
          <button type="button" className="secondary" onClick={addRange} disabled={!canAdd}>Add range</button>
        </div>
        {rangesError && <p className="field-error small" aria-live="polite">{rangesError}</p>}
      </fieldset>
    </div>
  );
}
