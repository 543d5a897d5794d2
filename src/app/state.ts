// The app's state (zustand) and the actions that drive the engine worker through EngineClient.
import { create } from 'zustand';
import type { ErrorInfo, PackInfo, PackRef, Phase, ProgressInfo, RequestBody, Stage, StagePlan, VideoMeta } from '../protocol.ts';
import { LAVIE_DEFAULTS, LIMITS, randomSeed, toErrorInfo, validateRequest } from '../protocol.ts';
import { builtinPackUrl } from '../packs/sources/builtin.ts';
import { normalizeBaseUrl } from '../packs/sources/url.ts';
import { listStoredPacks } from '../packs/storage/stored-packs.ts';
import { deleteStoredPack } from '../packs/storage/shared-files.ts';
import { defaultStore } from '../packs/storage/browser-default.ts';
import { packKey, type StoredPackInfo } from '../packs/storage/pack-store.ts';
import { addToHistory, interruptedEntry, listHistory, putInHistory, removeFromHistory, type HistoryEntry } from './history.ts';
import { formDefaults, parseForm, restoreForm, saveForm, type FormFields, type Touched } from './form.ts';
import { findInterrupted, markRunning } from './interrupted.ts';
import { capturePoster } from './poster.ts';
import { rememberPack, rememberedPack } from './pack-choice.ts';
import { JobEstimator } from './eta.ts';
import { useUi } from './ui-prefs.ts';
import { loadRates, saveRates } from './device-rates.ts';
import { EngineClient, type GenerationOutput, type PreviewFrame } from './worker-client.ts';

export type Status = 'idle' | 'loading' | 'generating' | 'done' | 'error';

export { parseForm, type FormFields } from './form.ts';

export interface ResultInfo { url: string; meta: VideoMeta; bytes: number; stage: Stage; final: boolean }

export interface AppState {
  status: Status;
  packRef: PackRef;
  pack: PackInfo | null;
  form: FormFields;
  /** Fields the user changed: pack defaults don't overwrite them. */
  touched: Touched;
  progress: ProgressInfo | null;
  /** Estimated ms left: of the whole generation (src/app/eta.ts), or of the pack download. */
  etaMs: number | null;
  /** The running phase outlasted its estimate (etaMs is then the rest of the job after it). */
  etaStalled: boolean;
  /** A phase that began after the last progress event and has reported nothing yet (e.g. the first step). */
  etaStarting: Phase | null;
  preview: PreviewFrame | null;
  result: ResultInfo | null;
  /** Earlier stages' videos of the same request (kept downloadable; nothing is lost on cancel). */
  earlier: ResultInfo[];
  error: ErrorInfo | null;
  /** A chosen pack failed to load and the app went back to this one (its name). */
  revertedTo: string | null;
  activeId: string | null;

  /** Saved videos and interrupted runs, newest first (IndexedDB; survives reloads). */
  history: HistoryEntry[];
  loadHistory(): Promise<void>;
  /** Show a saved video in the player (an interrupted run has none). */
  showFromHistory(id: string): void;
  /** Put a saved video's settings back into the form. */
  reuseSettings(id: string): void;
  /** Delete a saved video or interrupted run; it can be brought back with undoDelete until the next delete or a reload. */
  deleteFromHistory(id: string): Promise<void>;
  /** The last deleted entry (with its place in the list), while it can still be brought back. */
  deleted: { entry: HistoryEntry; index: number } | null;
  undoDelete(): void;

  /** Packs in this browser's storage, its usage and quota (Storage panel). */
  storage: StorageState | null;
  refreshStorage(): Promise<void>;
  deleteStoredPack(key: string): Promise<void>;
  /** Switch to another pack (remembered for the next visit) and load it. */
  choosePack(ref: PackRef): Promise<void>;
  /** Stop a pack download in progress (finished files are kept). */
  cancelLoad(): void;

  setField<K extends keyof FormFields>(key: K, value: FormFields[K]): void;
  randomizeSeed(): void;
  load(): Promise<void>;
  /** Run the form's request, or `request` (the queue's); resolves when the run ended (status then
   * 'done', 'error', or 'idle' when cancelled). */
  generate(request?: RequestBody): Promise<void>;
  cancel(): void;
  dismissError(): void;
}

export interface StorageState { packs: StoredPackInfo[]; usage?: number; quota?: number; persisted?: boolean; kind: string }

/** Storage key of a URL/built-in pack (local folders are not stored). */
export function storedKeyOf(ref: PackRef): string | null {
  try {
    if (ref.kind === 'builtin') return packKey(normalizeBaseUrl(builtinPackUrl(import.meta.env.BASE_URL, location.origin, import.meta.env.VITE_BUILTIN_PACK)));
    if (ref.kind === 'url') return packKey(normalizeBaseUrl(ref.baseUrl));
    if (ref.kind === 'stored') return ref.key;
  } catch {
    // not a URL
  }
  return null;
}

/** Ask the browser not to evict downloaded packs (only possible from a page, not the worker). */
async function requestPersistence(): Promise<boolean | undefined> {
  try {
    const s = navigator.storage;
    if (!s?.persisted) return undefined;
    return (await s.persisted()) || (await s.persist());
  } catch {
    return undefined;
  }
}

/** `?pack=<base URL>` selects a hosted pack; otherwise the remembered choice, else the built-in demo pack. */
export function packRefFromLocation(search: string = typeof location === 'undefined' ? '' : location.search): PackRef {
  const url = new URLSearchParams(search).get('pack');
  if (url) return { kind: 'url', baseUrl: url };
  return (typeof localStorage !== 'undefined' ? rememberedPack() : null) ?? { kind: 'builtin' };
}

/** The last pack that loaded in this page (a failed choice returns to it). */
let lastWorking: PackRef | null = null;

let client: EngineClient | null = null;
const engine = () => {
  if (client) return client;
  client = new EngineClient();
  // The worker lost its model outside any request (e.g. reloading after a GPU reset failed): say so,
  // and stop offering Generate on a model that is gone.
  client.onUnsolicitedError = (error) => useApp.setState({ status: 'error', error, pack: null, progress: null, etaMs: null });
  return client;
};

/** The stage plan of a request on the loaded pack (null: none loaded), for time estimates. */
export const planRequest = (request: RequestBody): Promise<StagePlan[] | null> => engine().plan(request);

/** Text tokens of a prompt on the loaded pack's tokenizer (null: none loaded). */
export const countPromptTokens = (text: string): Promise<number | null> => engine().countTokens(text);

// Pack downloads: the download's own ETA, else time per step measured within the current phase.
let phaseClock: { phase: Phase; step: number; elapsedMs: number } | null = null;
function estimateEta(p: ProgressInfo): number | null {
  if (p.etaMs !== undefined) return p.etaMs;
  if (!phaseClock || phaseClock.phase !== p.phase || p.step < phaseClock.step) {
    phaseClock = { phase: p.phase, step: p.step, elapsedMs: p.elapsedMs };
    return null;
  }
  const steps = p.step - phaseClock.step;
  if (steps <= 0) return null;
  return ((p.elapsedMs - phaseClock.elapsedMs) / steps) * (p.total - p.step);
}

/** Deleted history entries not yet removed from IndexedDB (undo is possible until then); written
 * synchronously, so a reload right after a delete still removes them (on the next load). */
const DELETING = 'lavie.history.deleting';
const pendingDeletes = (): string[] => {
  try {
    const v = JSON.parse(localStorage.getItem(DELETING) ?? '[]') as unknown;
    return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
  } catch {
    return [];
  }
};
const setPendingDeletes = (ids: string[]) => {
  try {
    localStorage.setItem(DELETING, JSON.stringify(ids));
  } catch {
    // no storage: the delete is committed right away below
  }
};
async function commitDeletes(ids: string[]): Promise<void> {
  for (const id of ids) await removeFromHistory(id).catch(() => undefined);
  setPendingDeletes(pendingDeletes().filter((x) => !ids.includes(x)));
}

/** The form as this visitor left it (checked through the request contract), else the defaults. */
function initialForm(): { form: FormFields; touched: Touched } {
  const fallback: FormFields = { prompt: '', ...formDefaults(LAVIE_DEFAULTS) };
  return restoreForm(fallback) ?? { form: fallback, touched: {} };
}

export const useApp = create<AppState>()((set, get) => {
  const revoke = (rs: (ResultInfo | null)[]) => { for (const r of rs) if (r) URL.revokeObjectURL(r.url); };
  const clearResult = () => {
    const { result, earlier } = get();
    revoke([...earlier, result]);
    return { result: null, earlier: [] };
  };
  /** The videos shown when a run started: back in the player if that run ends without a video of its own. */
  let kept: { result: ResultInfo | null; earlier: ResultInfo[] } | null = null;
  const dropKept = () => {
    if (kept) revoke([...kept.earlier, kept.result]);
    kept = null;
  };
  const restoreKept = () => {
    const k = kept;
    kept = null;
    return k && !get().result ? { result: k.result, earlier: k.earlier } : (k && revoke([...k.earlier, k.result]), {});
  };

  /** Put a request's settings back into the form (its seed too: "new seed each run" steps aside). */
  const applyRequest = (r: RequestBody) => set((s) => ({
    form: { prompt: r.prompt, negativePrompt: r.negativePrompt, seed: String(r.seed), steps: String(r.steps), guidanceScale: String(r.guidanceScale), sampler: r.sampler, interpolate: !!r.interpolate, superResolve: !!r.superResolve, gpuMemory: s.form.gpuMemory, newSeed: false,
      frames: String(r.frames ?? LIMITS.frames.min), segments: (r.segments ?? []).map((g) => ({ prompt: g.prompt, from: String(g.from), to: String(g.to) })) },
    touched: { ...s.touched, steps: true, guidanceScale: true, sampler: true },
  }));

  // Every stage's video of one run carries the run's id (History groups them) and a poster frame.
  const save = async (request: RequestBody, out: GenerationOutput, runId: string) => {
    try {
      const poster = await capturePoster(out.video);
      const entry = await addToHistory({ request, stage: out.stage, meta: out.meta, video: out.video, runId, ...(poster ? { poster } : {}) });
      set((s) => ({ history: [entry, ...s.history] }));
    } catch {
      // Storage full or unavailable: the video is still shown and downloadable.
    }
  };

  return {
    status: 'idle',
    packRef: packRefFromLocation(),
    pack: null,
    ...initialForm(),
    deleted: null,
    progress: null,
    etaMs: null,
    preview: null,
    result: null,
    earlier: [],
    error: null,
    revertedTo: null,
    activeId: null,
    etaStalled: false,
    etaStarting: null,
    history: [],
    storage: null,

    async refreshStorage() {
      try {
        const store = defaultStore();
        const [packs, est, persisted] = await Promise.all([
          listStoredPacks(store),
          navigator.storage?.estimate?.().catch(() => undefined),
          navigator.storage?.persisted?.().catch(() => undefined),
        ]);
        set({ storage: { packs, kind: store.kind, ...(est?.usage !== undefined ? { usage: est.usage } : {}), ...(est?.quota !== undefined ? { quota: est.quota } : {}), ...(persisted !== undefined ? { persisted } : {}) } });
      } catch {
        set({ storage: null });
      }
    },

    async deleteStoredPack(key) {
      if (key === storedKeyOf(get().packRef) && get().pack) return; // in use (later stages read from it)
      await deleteStoredPack(defaultStore(), key); // shared files stay while another pack uses them
      await get().refreshStorage();
    },

    async choosePack(ref) {
      if (get().status === 'generating') return;
      if (get().status === 'loading') get().cancelLoad();
      const prev = lastWorking;
      set({ packRef: ref, pack: null, revertedTo: null });
      await get().load();
      // Only a choice that loaded is remembered for the next visit.
      if (get().pack) return void rememberPack(ref);
      if (!prev || prev === ref) return;
      // A failed (or cancelled) choice is not kept: back to the pack that worked, the error stays on screen.
      const failed = get().status === 'error' ? get().error : null;
      set({ packRef: prev });
      await get().load();
      const back = get().pack;
      if (back && failed) set({ status: 'error', error: failed, revertedTo: back.name });
    },

    cancelLoad() {
      if (get().status !== 'loading') return;
      engine().cancelLoad();
    },

    async loadHistory() {
      const interrupted = findInterrupted();
      try {
        // Deletes left pending by a reload are done now.
        const pending = pendingDeletes();
        await commitDeletes(pending);
        // Runs the page's going interrupted become History entries (then their markers go).
        for (const { marker, forget } of interrupted) {
          await putInHistory(interruptedEntry(marker));
          forget();
        }
        set({ history: (await listHistory()).filter((h) => !pending.includes(h.id)) });
      } catch {
        // No IndexedDB (e.g. a private window that forbids it): the app works without saved history;
        // interrupted runs are still shown (their markers stay for a later visit).
        set({ history: interrupted.map(({ marker }) => interruptedEntry(marker)).sort((a, b) => b.createdAt - a.createdAt) });
      }
    },

    showFromHistory(id) {
      const e = get().history.find((h) => h.id === id);
      if (!e?.video || get().status === 'generating') return;
      const fresh = clearResult();
      dropKept();
      set({ ...fresh, status: 'done', result: { url: URL.createObjectURL(e.video), meta: e.meta, bytes: e.video.size, stage: e.stage, final: true } });
    },

    reuseSettings(id) {
      const e = get().history.find((h) => h.id === id);
      if (!e) return;
      applyRequest(e.request);
    },

    async deleteFromHistory(id) {
      const index = get().history.findIndex((h) => h.id === id);
      if (index < 0) return;
      // One undo at a time: the previous delete is done now.
      const prev = get().deleted;
      setPendingDeletes([...pendingDeletes(), id]);
      set((s) => ({ history: s.history.filter((h) => h.id !== id), deleted: { entry: s.history[index]!, index } }));
      if (prev) await commitDeletes([prev.entry.id]);
    },

    undoDelete() {
      const d = get().deleted;
      if (!d) return;
      setPendingDeletes(pendingDeletes().filter((x) => x !== d.entry.id));
      set((s) => {
        const history = [...s.history];
        history.splice(Math.min(d.index, history.length), 0, d.entry);
        return { history, deleted: null };
      });
    },

    setField(key, value) {
      // A seed typed by hand is the one wanted: "new seed each run" steps aside.
      set((s) => ({ form: { ...s.form, [key]: value, ...(key === 'seed' ? { newSeed: false } : {}) }, touched: { ...s.touched, [key]: true } }));
    },

    randomizeSeed() {
      set((s) => ({ form: { ...s.form, seed: String(randomSeed()) } }));
    },

    async load() {
      if (get().status === 'loading') return;
      phaseClock = null;
      set({ status: 'loading', error: null, progress: null, etaMs: null });
      const ref = get().packRef;
      if (ref.kind !== 'local') void requestPersistence().then(() => get().refreshStorage());
      if (ref.kind === 'local' && !ref.dir && !ref.files) {
        set({ status: 'error', error: { code: 'pack-invalid', message: `Choose the folder "${ref.name}" again: this browser does not let the page reopen it by itself.`, recoverable: true } });
        return;
      }
      try {
        const pack = await engine().load(ref, (progress) => set({ progress, etaMs: estimateEta(progress) }));
        lastWorking = ref;
        const { touched, form } = get();
        const d = formDefaults(pack.defaults);
        set({
          status: 'idle',
          pack,
          progress: null,
          etaMs: null,
          form: {
            ...form,
            steps: touched.steps ? form.steps : d.steps,
            guidanceScale: touched.guidanceScale ? form.guidanceScale : d.guidanceScale,
            sampler: touched.sampler ? form.sampler : d.sampler,
          },
        });
      } catch (e) {
        const error = toErrorInfo(e);
        if (error.code === 'cancelled') set({ status: 'idle', pack: null, progress: null, etaMs: null });
        else set({ status: 'error', pack: null, progress: null, etaMs: null, error });
      } finally {
        void get().refreshStorage();
      }
    },

    async generate(request) {
      const s = get();
      if (s.status === 'generating' || s.status === 'loading') return;
      // "New seed each run": the seed this run uses is drawn now and shown in the form (a queued
      // request keeps the seed it was queued with).
      if (!request && s.form.newSeed) set({ form: { ...s.form, seed: String(randomSeed()) } });
      const bad = request && validateRequest(request, undefined, { needsId: false });
      const parsed = !request ? parseForm(get().form) : bad ? { ok: false as const, error: bad.toInfo() } : { ok: true as const, request };
      if (!parsed.ok) {
        // The wrong setting may be folded away under Advanced: show it.
        if (parsed.error.field && parsed.error.field !== 'prompt') useUi.getState().setOpen('advanced', true);
        set({ status: 'error', error: parsed.error });
        return;
      }
      if (!s.pack) {
        await get().load();
        if (!get().pack) return;
      }
      const pack = get().pack!;
      const runId = crypto.randomUUID();
      // The video on screen comes back if this run ends without one (cancelled, failed).
      dropKept();
      kept = { result: get().result, earlier: get().earlier };
      set({ result: null, earlier: [], status: 'generating', progress: null, etaMs: null, etaStalled: false, etaStarting: null, preview: null, error: null });
      // One estimate for the whole job: the stage plan's work at this device's remembered speed,
      // refined by this run; ticked every second so it counts down (and notices a stalled phase).
      const plan = await engine().plan(parsed.request);
      const est = plan ? new JobEstimator(plan, loadRates(pack), () => performance.now()) : null;
      const showEta = () => {
        if (!est || get().activeId !== handle.id) return;
        const e = est.estimate();
        set({ etaMs: e.remainingMs, etaStalled: e.stalled, etaStarting: e.starting ? e.phase : null });
      };
      const ticker = setInterval(showEta, 1000);
      const handle = engine().generate(parsed.request, {
        onProgress: (progress) => {
          if (get().activeId !== handle.id) return;
          mark.progress(progress);
          est?.progress(progress);
          set({ progress });
          showEta();
        },
        onPreview: (preview) => { if (get().activeId === handle.id) set({ preview }); },
        // The base video is shown (and downloadable) while the next stage runs.
        onStageResult: (out) => {
          void save(parsed.request, out, runId);
          if (get().activeId !== handle.id) return;
          const prev = get().result;
          dropKept();
          set({ result: { url: URL.createObjectURL(out.video), meta: out.meta, bytes: out.video.size, stage: out.stage, final: false }, earlier: prev ? [...get().earlier, prev] : get().earlier, preview: null });
        },
      });
      set({ activeId: handle.id });
      // Until it ends, the run is recorded as going on: a reload or a closed tab leaves it as interrupted
      // (progress events arrive from the worker later, after this line).
      const mark = markRunning(runId, parsed.request);
      try {
        const out = await handle.done;
        est?.finish();
        void save(parsed.request, out, runId);
        if (get().activeId !== handle.id) return;
        const prev = get().result;
        dropKept();
        set({ status: 'done', activeId: null, etaMs: null, earlier: prev ? [...get().earlier, prev] : get().earlier, result: { url: URL.createObjectURL(out.video), meta: out.meta, bytes: out.video.size, stage: out.stage, final: true } });
      } catch (e) {
        if (get().activeId !== handle.id) return; // cancelled or superseded: already handled
        const error = toErrorInfo(e);
        if (error.code === 'cancelled') set({ status: 'idle', activeId: null, progress: null, etaMs: null, preview: null, ...restoreKept() });
        else set({ status: 'error', activeId: null, etaMs: null, error, ...restoreKept() });
      } finally {
        mark.end();
        clearInterval(ticker);
        // What this run timed (finished phases; all of them when it completed) is kept for next time.
        if (est) saveRates(pack, est.rates());
      }
    },

    cancel() {
      const id = get().activeId;
      if (id) engine().cancel(id);
      if (get().status === 'generating') set({ status: 'idle', activeId: null, progress: null, etaMs: null, preview: null, ...restoreKept() });
    },

    dismissError() {
      if (get().status === 'error') set({ status: 'idle', error: null, revertedTo: null });
    },
  };
});

// The form survives reloads: saved whenever it changes.
useApp.subscribe((s, prev) => {
  if (s.form !== prev.form || s.touched !== prev.touched) saveForm(s.form, s.touched);
});
