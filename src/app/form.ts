// The generation form's fields, their parsing into a request (the one contract decides), and the
// form kept across reloads: saved on every change, checked through the same contract on restore.
import type { ErrorInfo, GpuMemoryGB, RequestBody, SamplerDefaults, SamplerName } from '../protocol.ts';
import { LIMITS, requestDefaults, validateRequest } from '../protocol.ts';
import type { RangeField } from './long-video.ts';

/** The request fields as typed in the form (numbers stay text until Generate, so fields can be edited freely). */
export interface FormFields {
  prompt: string;
  negativePrompt: string;
  seed: string;
  steps: string;
  guidanceScale: string;
  sampler: SamplerName;
  /** LaVie option 2: "Smoother" (temporal interpolation). */
  interpolate: boolean;
  /** LaVie option 3 (4 with interpolate): "High resolution" (×4 super-resolution). */
  superResolve: boolean;
  /** "GPU memory" setting in GB ('' = not set: no budget beyond what the device taught the engine). */
  gpuMemory: '' | `${GpuMemoryGB}`;
  /** "New seed each run": Generate draws a fresh seed first (on by default; typing a seed turns it off). */
  newSeed: boolean;
  /** "Length": base frames (long videos, FreeNoise; LIMITS.frames). */
  frames: string;
  /** "Prompts over frame ranges" (none: the prompt on every frame). */
  segments: RangeField[];
}

/** The form's text as numbers ("" stays not-a-number, so it is refused rather than read as 0). */
const num = (s: string) => (s.trim() === '' ? Number.NaN : Number(s));

/** Parse the form into a request, or the contract's typed error naming the wrong field. */
export function parseForm(f: FormFields): { ok: true; request: RequestBody } | { ok: false; error: ErrorInfo } {
  const request: RequestBody = {
    prompt: f.prompt.trim(), negativePrompt: f.negativePrompt.trim(), seed: num(f.seed), steps: num(f.steps), guidanceScale: num(f.guidanceScale), sampler: f.sampler,
    ...(f.interpolate ? { interpolate: true } : {}), ...(f.superResolve ? { superResolve: true } : {}),
    ...(f.gpuMemory ? { gpuMemoryGB: Number(f.gpuMemory) as GpuMemoryGB } : {}),
    ...(num(String(f.frames)) !== LIMITS.frames.min ? { frames: num(String(f.frames)) } : {}),
    // String(): a restored form's ranges are checked here, whatever was saved.
    ...(f.segments.length ? { segments: f.segments.map((g) => ({ prompt: String(g?.prompt ?? '').trim(), from: num(String(g?.from ?? '')), to: num(String(g?.to ?? '')) })) } : {}),
  };
  const bad = validateRequest(request, undefined, { needsId: false });
  return bad ? { ok: false, error: bad.toInfo() } : { ok: true, request };
}

/** The form's fields for a pack's defaults (a new random seed). */
export function formDefaults(pack: SamplerDefaults): Omit<FormFields, 'prompt'> {
  const d = requestDefaults(pack);
  return { negativePrompt: d.negativePrompt, seed: String(d.seed), steps: String(d.steps), guidanceScale: String(d.guidanceScale), sampler: d.sampler, interpolate: false, superResolve: false, gpuMemory: '', newSeed: true, frames: String(LIMITS.frames.min), segments: [] };
}

/** The form field behind a request field the contract names. */
const FORM_FIELD: Partial<Record<string, keyof FormFields>> = { gpuMemoryGB: 'gpuMemory' };

const KEY = 'lavie.form';

/** Fields the user changed (pack defaults do not overwrite them). */
export type Touched = Partial<Record<keyof FormFields, true>>;

export function saveForm(form: FormFields, touched: Touched): void {
  try {
    localStorage.setItem(KEY, JSON.stringify({ form, touched }));
  } catch {
    // storage full or unavailable: the form lasts for this visit
  }
}

/**
 * The saved form, each field checked: wrong types keep `fallback`'s value, and values the request
 * contract refuses (a seed out of range, an unknown sampler, an edited-by-hand entry…) are replaced
 * one by one by `fallback`'s. An empty prompt is a fine thing to restore. null: nothing saved.
 */
export function restoreForm(fallback: FormFields, raw: string | null = readSaved()): { form: FormFields; touched: Touched } | null {
  let saved: { form?: Record<string, unknown>; touched?: Record<string, unknown> };
  try {
    saved = JSON.parse(raw ?? 'null') as typeof saved;
  } catch {
    return null;
  }
  if (!saved || typeof saved !== 'object' || !saved.form || typeof saved.form !== 'object') return null;
  const form: FormFields = { ...fallback };
  const keys = Object.keys(fallback) as (keyof FormFields)[];
  for (const k of keys) if (typeof saved.form[k] === typeof fallback[k]) (form as unknown as Record<string, unknown>)[k] = saved.form[k];
  for (let i = 0; i <= keys.length; i++) {
    const parsed = parseForm({ ...form, prompt: form.prompt.trim() ? form.prompt : 'restored' });
    if (parsed.ok) {
      const touched = Object.fromEntries(keys.filter((k) => saved.touched?.[k] === true && form[k] === saved.form![k]).map((k) => [k, true])) as Touched;
      return { form, touched };
    }
    const field = parsed.error.field;
    const k = field ? (FORM_FIELD[field] ?? field) as keyof FormFields : undefined;
    if (!k || !(k in fallback) || form[k] === fallback[k]) return { form: fallback, touched: {} };
    (form as unknown as Record<string, unknown>)[k] = fallback[k];
  }
  return { form: fallback, touched: {} };
}

function readSaved(): string | null {
  try {
    return typeof localStorage === 'undefined' ? null : localStorage.getItem(KEY);
  } catch {
    return null;
  }
}
