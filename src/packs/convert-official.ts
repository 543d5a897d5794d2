// "LaVie (official weights)" in the browser: list the public repos on the Hub (or a mirror), download
// what the chosen stages need into the PackStore (resumable, verified: hub.ts), convert with the one
// converter (convert/official.ts — the code behind `npm run convert`) straight into the store
// (storage/pack-sink.ts), verify what was written, and delete the originals unless they are kept.
// Runtime-agnostic: the conversion worker (workers/convert.worker.ts) runs it over OPFS, Node tests
// over an in-memory store. The job is recorded in its pack's info.json before anything else, so a
// reload finds it and resumes: downloads continue where they stopped, and the conversion after the
// last network it finished (each network's files are published into the store as it completes and
// recorded in info.json; a resume skips those networks — the build is deterministic — and the final
// check hashes every file).
import { LAVIE_REPOS, STAGE_CHOICES, choiceSizes, planDownload, type PlannedFile, type Precisions, type RepoId } from '../convert/catalogue.ts';
import type { ByteSource, SourceFolder } from '../convert/io/bytes.ts';
import { CheckpointError } from '../convert/errors.ts';
import { convertOfficial, type FileRef } from '../convert/official.ts';
import { CancelledError } from '../protocol/errors.ts';
import { HubError, fetchHubFiles, hubStoreKey, listRepo, type HubFile, type HubOptions } from './download/hub.ts';
import { RateMeter } from './download/download.ts';
import { hashBlob } from './download/sha256.ts';
import { packFiles, type PackManifest } from './manifest.ts';
import { PackInvalidError } from './pack-source.ts';
import { StorageFullError, packKey, type PackStore } from './storage/pack-store.ts';
import { storePackSink, type ConvertedStep, type Scratch } from './storage/pack-sink.ts';
import { localInputs, type PickedFile, type SortedFiles } from './local-inputs.ts';

export type StageChoiceId = (typeof STAGE_CHOICES)[number]['id'];

/** What to convert; recorded with the job (info.json) so that a reload can resume it. */
export interface ConvertJobSpec {
  source: 'hub' | 'local';
  /** A STAGE_CHOICES id: base | base+interp | base+vsr | base+interp+vsr. */
  stages: string;
  precisions: Precisions;
  /** Keep the downloaded originals after a successful conversion (default: delete them). */
  keepOriginals?: boolean;
  /** Hub jobs: the endpoint (already checked against the deployment's allow-list) and revisions. */
  hub?: { endpoint: string; revisions?: Partial<Record<RepoId, string>> };
  name?: string;
  /** Base latent video (default 16 × 40×64 = LaVie's 320×512); tests convert tiny checkpoints. */
  latent?: { height: number; width: number };
  frames?: number;
  /** VSR UNet config (LaVie's unet_3d_config.json) when not the default. */
  vsrConfig?: Record<string, unknown>;
}


export type ConvertPhase = 'list' | 'download' | 'convert' | 'verify' | 'done';

export interface ConvertProgress {
  phase: ConvertPhase;
  /** Bytes of this phase done and to do (list: repos). */
  done: number;
  total: number;
  /** The file being downloaded, or the network being converted. */
  item?: string;
  /** Converting: the input file being read (progress between a network's writes). */
  reading?: string;
  /** The whole job, 0..1, and the time left for all of it (absent until measurable). */
  fraction: number;
  etaMs?: number;
  /** Networks an interrupted run already converted (kept, not converted again). */
  kept?: string[];
}

export interface ConvertEnv {
  store: PackStore;
  /** Scratch space for the converter's synchronous writes into pack `key`. */
  scratch(key: string): Scratch;
  /** Random access to a stored or picked file (FileReaderSync in the worker). */
  openBlob(blob: Blob, name: string): Promise<ByteSource>;
  fetch?: typeof fetch;
  token?: string;
  retries?: number;
  backoffMs?: number;
  estimate?: () => Promise<{ usage?: number; quota?: number }>;
  now?: () => number;
}

export interface RunOptions {
  signal?: AbortSignal;
  onProgress?: (p: ConvertProgress) => void;
  onLog?: (line: string) => void;
  /** Local jobs: the picked or dropped files (sorted by local-inputs.ts). */
  files?: readonly PickedFile[];
}

export interface ConvertResult { key: string; manifest: PackManifest }

/** A pending (unfinished) job as stored in its pack's info.json. */
/** A pending (unfinished) job as stored in its pack's info.json: cancelled or failed ones wait for
 * the user; others were interrupted (a reload, a closed tab) and resume by themselves. */
export interface PendingJob { key: string; spec: ConvertJobSpec; cancelled?: boolean; error?: { code: string; message: string }; /** Networks already converted and kept (a resume skips them). */ kept?: string[] }

const choiceOf = (id: string) => {
  const c = STAGE_CHOICES.find((s) => s.id === id);
  if (!c) throw new CheckpointError('bad-format', `unknown choice of stages "${id}" (one of ${STAGE_CHOICES.map((s) => s.id).join(', ')})`);
  return c;
};

export const revisionOf = (spec: ConvertJobSpec, id: RepoId) => spec.hub?.revisions?.[id] ?? LAVIE_REPOS[id].revision;

/** The stored pack a job makes: the same inputs and options give the same key (converting twice replaces it). */
export function jobKey(spec: ConvertJobSpec): string {
  const { keepOriginals: _k, ...what } = spec;
  return packKey(`converted:${JSON.stringify(what)}`);
}

export const jobName = (spec: ConvertJobSpec) => spec.name ?? `LaVie (official weights): ${choiceOf(spec.stages).label}, UNet ${spec.precisions.unet}`;

/** The repos a choice reads from. */
export const reposFor = (stages: string): RepoId[] => (Object.keys(LAVIE_REPOS) as RepoId[]).filter((id) => id !== 'x4' || choiceOf(stages).stages.vsr);

export interface HubPlan { files: PlannedFile[]; download: number; stored: number; cached: number }

/** What listing and downloading need of the environment (the browser's worker and `npm run convert -- --from-hub` alike). */
export type HubEnv = Pick<ConvertEnv, 'store' | 'fetch' | 'token' | 'retries' | 'backoffMs'>;

/**
 * List the repos (nothing downloaded yet): the files to fetch, their size, the pack's estimated size,
 * what is already stored. The one plan of a Hub job, in the browser and in the Node CLI.
 */
export async function planHubJob(spec: ConvertJobSpec, env: HubEnv, signal?: AbortSignal, onRepo?: (done: number, total: number) => void): Promise<HubPlan> {
  const hub = hubOptions(spec, env, signal);
  const repos = reposFor(spec.stages);
  const listings: Partial<Record<RepoId, HubFile[]>> = {};
  for (const [i, id] of repos.entries()) {
    onRepo?.(i, repos.length);
    listings[id] = await listRepo(hub, LAVIE_REPOS[id].repo, revisionOf(spec, id));
  }
  onRepo?.(repos.length, repos.length);
  const plan = planDownload(choiceOf(spec.stages).stages, listings);
  if (plan.missing.length) throw new HubError('hub-not-found', `missing on ${hub.endpoint}: ${plan.missing.join('; ')}`);
  const sizes = choiceSizes(plan, spec.precisions);
  let cached = 0;
  for (const f of plan.files) if (f.file.sha256 && (await env.store.file(hubStoreKey(LAVIE_REPOS[f.repo].repo), f.file.sha256))) cached += f.file.size;
  return { files: plan.files, ...sizes, cached };
}

export function hubOptions(spec: ConvertJobSpec, env: HubEnv, signal?: AbortSignal): HubOptions {
  if (!spec.hub) throw new HubError('hub-endpoint-refused', 'a Hub job without an endpoint');
  return { endpoint: spec.hub.endpoint, token: env.token, fetch: env.fetch, signal, ...(env.retries !== undefined ? { retries: env.retries } : {}), ...(env.backoffMs !== undefined ? { backoffMs: env.backoffMs } : {}) };
}

/** Time left over the phases: each phase's remaining bytes at its measured rate (or, before it starts, a cautious prior). */
export class JobClock {
  private readonly download: RateMeter;
  /** Converting and verifying: bytes since the phase's first byte (a windowed rate swings between
   * the reads and the long synchronous stretches of graph building and quantization between them). */
  private readonly since = new Map<'convert' | 'verify', { t0: number; bytes: number }>();
  readonly left: Record<'download' | 'convert' | 'verify', number> = { download: 0, convert: 0, verify: 0 };
  private readonly total: number;
  constructor(sizes: { download: number; convert: number; verify: number }, private readonly now: () => number) {
    Object.assign(this.left, sizes);
    this.download = new RateMeter(5000, now);
    this.total = Math.max(1, sizes.download + sizes.convert + sizes.verify);
  }
  /** Priors in bytes/s for phases not timed yet (a modest laptop; refined as soon as a phase runs). */
  private static readonly PRIOR: Record<'convert' | 'verify', number> = { convert: 25e6, verify: 150e6 };
  /** How many seconds of the prior a measured rate is blended with: a phase's first seconds (e.g.
   * a checkpoint's index read before its first tensor) do not make an ETA of hours. */
  private static readonly PRIOR_S = 10;
  advance(phase: 'download' | 'convert' | 'verify', bytes: number): void {
    if (bytes <= 0) return;
    this.left[phase] = Math.max(0, this.left[phase] - bytes);
    if (phase === 'download') return this.download.add(bytes);
    const s = this.since.get(phase);
    if (s) s.bytes += bytes;
    else this.since.set(phase, { t0: this.now(), bytes: 0 }); // the first chunk starts the clock
  }
  /** Bytes/s of a phase: measured (download), or measured since its start blended with the prior. */
  private rate(phase: 'download' | 'convert' | 'verify'): number | undefined {
    if (phase === 'download') return this.download.rate();
    const s = this.since.get(phase);
    const prior = JobClock.PRIOR[phase];
    if (!s) return prior;
    const dt = Math.max(0, this.now() - s.t0) / 1000;
    return (s.bytes + prior * JobClock.PRIOR_S) / (dt + JobClock.PRIOR_S);
  }
  fraction(): number {
    return 1 - (this.left.download + this.left.convert + this.left.verify) / this.total;
  }
  /** undefined while the download's speed is unknown (no honest guess for a network). */
  etaMs(): number | undefined {
    let ms = 0;
    for (const phase of ['download', 'convert', 'verify'] as const) {
      if (!this.left[phase]) continue;
      const rate = this.rate(phase);
      if (!rate) return undefined;
      ms += (this.left[phase] / rate) * 1000;
    }
    return ms;
  }
}

/** A folder whose weight files count the bytes the converter reads (conversion progress). */
function countingFolder(name: string, files: Map<string, Blob>, env: ConvertEnv, onRead: (n: number, path: string) => void): SourceFolder {
  return {
    name,
    has: (p) => files.has(p),
    async open(p) {
      const b = files.get(p);
      if (!b) throw new CheckpointError('bad-format', `${name}/${p}: no such file`, { file: `${name}/${p}` });
      const src = await env.openBlob(b, `${name}/${p}`);
      return { size: src.size, read: (o, l) => { const out = src.read(o, l); onRead(out.byteLength, p); return out; } };
    },
  };
}

const NETWORKS: Record<string, string> = {
  vsr: 'super-resolution stage', tokenizer: 'text encoder', text_encoder: 'text encoder', unet: 'base UNet', vae_decoder: 'VAE decoder', vae_encoder: 'VAE encoder',
  interp_unet: 'interpolation UNet', tokenizer_x4: 'x4 text encoder', text_encoder_x4: 'x4 text encoder', vsr_unet: 'super-resolution UNet', vsr_vae_decoder: 'x4 VAE decoder',
};

/** Unfinished jobs in the store (their pack has a job but no manifest). */
export async function pendingJobs(store: PackStore): Promise<PendingJob[]> {
  const out: PendingJob[] = [];
  for (const key of await store.packs()) {
    const info = (await store.readJson(key, 'info')) as { job?: ConvertJobSpec; error?: PendingJob['error']; cancelled?: boolean; complete?: boolean; steps?: Record<string, unknown> } | null;
    if (!info?.job || info.complete) continue;
    const kept = Object.keys(info.steps ?? {}).map((st) => NETWORKS[st] ?? st);
    out.push({ key, spec: info.job, ...(info.cancelled ? { cancelled: true } : {}), ...(info.error ? { error: info.error } : {}), ...(kept.length ? { kept } : {}) });
  }
  return out;
}

/** Forget an unfinished job (its partial pack); downloaded originals stay for another job. */
export async function discardJob(store: PackStore, key: string): Promise<void> {
  const info = (await store.readJson(key, 'info')) as { job?: unknown; complete?: boolean } | null;
  if (info?.job && !info.complete) await store.deletePack(key);
}

/** Sizes of a job's phases in bytes, for its clock: to download, weights to read, pack to verify. */
export interface JobSizes { download: number; convert: number; verify: number }

/**
 * Where a job's input bytes come from: the Hub (downloaded into the store first) or files the
 * visitor picked. Everything after `folders` — conversion, verification — is the same job code.
 */
export interface JobInputs {
  /** Recorded with the pack (info.json origin). */
  readonly origin: string;
  /** A folder's name in messages. */
  folderName(id: RepoId): string;
  sizes(): Promise<JobSizes>;
  /** The input folders (path in the repo's layout → file); `onFetched` counts bytes newly downloaded. */
  folders(onFetched: (bytes: number, p: { done: number; total: number; item: string }) => void): Promise<Record<RepoId, Map<string, Blob>>>;
  /** After a verified conversion: the originals go unless kept. */
  finish(): Promise<void>;
}

function hubInputs(spec: ConvertJobSpec, env: ConvertEnv, o: RunOptions, emitList: (done: number, total: number) => void): JobInputs {
  let plan: HubPlan | null = null;
  const repos = reposFor(spec.stages);
  return {
    origin: `${spec.hub?.endpoint ?? ''} (${repos.map((id) => LAVIE_REPOS[id].repo).join(', ')})`,
    folderName: (id) => `${LAVIE_REPOS[id].repo}@${revisionOf(spec, id)}`,
    async sizes() {
      const p = (plan = await planHubJob(spec, env, o.signal, emitList));
      const weights = p.files.filter((f) => f.weights).reduce((s, f) => s + f.file.size, 0);
      const toFetch = p.download - p.cached;
      if (env.estimate) {
        const { usage = 0, quota } = await env.estimate().catch(() => ({ usage: 0, quota: undefined }));
        const need = toFetch + p.stored;
        if (quota !== undefined && quota - usage < need) {
          throw new StorageFullError(`This choice needs ${gb(need)} of storage (${gb(toFetch)} to download, ${gb(p.stored)} for the converted model), but only ${gb(Math.max(0, quota - usage))} is available to this site. Free space (Storage panel), or choose fewer stages or a smaller precision.`);
        }
      }
      return { download: toFetch, convert: weights, verify: p.stored };
    },
    async folders(onFetched) {
      const p = plan!;
      const hub = hubOptions(spec, env, o.signal);
      const out = {} as Record<RepoId, Map<string, Blob>>;
      const base = { loaded: 0, total: p.download };
      let cachedLeft = p.cached;
      for (const id of repos) {
        const repo = LAVIE_REPOS[id].repo;
        const ns = hubStoreKey(repo);
        const files = p.files.filter((f) => f.repo === id).map((f) => f.file);
        let last = base.loaded;
        const shas = await fetchHubFiles(hub, repo, revisionOf(spec, id), files, env.store, (q) => {
          const delta = q.loaded - last;
          last = q.loaded;
          // Files already stored count as present at once; only fetched bytes move the clock.
          const fromCache = Math.min(cachedLeft, delta);
          cachedLeft -= fromCache;
          onFetched(delta - fromCache, { done: q.loaded, total: q.total, item: q.file });
        }, base);
        const m = new Map<string, Blob>();
        for (const [path, sha] of shas) {
          const b = await env.store.file(ns, sha);
          if (!b) throw new PackInvalidError(`${repo}/${path} vanished from storage after it was downloaded`, path);
          m.set(path, b);
        }
        out[id] = m;
      }
      return out;
    },
    async finish() {
      if (spec.keepOriginals) return;
      // Other files of the same repos (e.g. another job's) stay.
      for (const id of repos) {
        const ns = hubStoreKey(LAVIE_REPOS[id].repo);
        const used = new Set(plan!.files.filter((f) => f.repo === id && f.file.sha256).map((f) => f.file.sha256!));
        const small = ((await env.store.readJson(ns, 'info')) as { blobs?: Record<string, string> } | null)?.blobs ?? {};
        for (const f of plan!.files) if (f.repo === id && !f.file.sha256 && small[f.file.oid]) used.add(small[f.file.oid]!);
        const keep = new Set((await env.store.files(ns)).map((f) => f.sha256).filter((s) => !used.has(s)));
        if (keep.size) await env.store.prune(ns, keep);
        else await env.store.deletePack(ns);
      }
    },
  };
}

function pickedInputs(spec: ConvertJobSpec, env: ConvertEnv, files: readonly PickedFile[] | undefined): JobInputs {
  let sorted: SortedFiles | null = null;
  return {
    origin: 'local files',
    folderName: (id) => (id === 'lavie' ? 'LaVie checkpoints' : LAVIE_REPOS[id].repo.split('/')[1]!),
    async sizes() {
      sorted = await localInputs(spec.stages, files ?? [], env.openBlob);
      let weights = 0;
      for (const id of reposFor(spec.stages)) for (const [p, b] of sorted.folders[id] ?? []) if (/\.(pt|bin|safetensors)$/.test(p)) weights += b.size;
      return { download: 0, convert: weights, verify: weights / 2 };
    },
    async folders() {
      const f = sorted!.folders;
      return { lavie: f.lavie ?? new Map(), sd14: f.sd14 ?? new Map(), x4: f.x4 ?? new Map() };
    },
    async finish() {},
  };
}

/** Run (or resume) a conversion job; resolves with the stored pack. */
export async function runConvertJob(spec: ConvertJobSpec, env: ConvertEnv, o: RunOptions = {}): Promise<ConvertResult> {
  const { store } = env;
  const now = env.now ?? (() => performance.now());
  const key = jobKey(spec);
  const choice = choiceOf(spec.stages);
  const cancelled = () => {
    if (o.signal?.aborted) throw new CancelledError('Conversion cancelled. It can be resumed: downloaded files and the networks already converted are kept.');
  };
  const emit = (p: Omit<ConvertProgress, 'fraction' | 'etaMs'>, clock?: JobClock) => o.onProgress?.({ ...p, fraction: clock?.fraction() ?? 0, ...(clock?.etaMs() !== undefined ? { etaMs: clock.etaMs() } : {}) });
  const inputs = spec.source === 'hub' ? hubInputs(spec, env, o, (done, total) => emit({ phase: 'list', done, total })) : pickedInputs(spec, env, o.files);
  const { origin } = inputs;
  /** Networks converted so far (a resume after a reload or a cancel starts after them). */
  const steps: Record<string, ConvertedStep> = {};
  const record = (extra: Record<string, unknown> = {}) => store.writeJson(key, 'info', { key, origin, name: `${jobName(spec)} (not finished)`, bytes: 0, totalBytes: 0, complete: false, savedAt: Date.now(), job: spec, steps, ...extra });

  // A finished job: nothing to do.
  const prior = (await store.readJson(key, 'info')) as { complete?: boolean; job?: unknown; steps?: Record<string, ConvertedStep> } | null;
  const existing = prior?.complete ? await store.readJson(key, 'manifest') : null;
  if (existing) {
    emit({ phase: 'done', done: 1, total: 1 });
    return { key, manifest: existing as PackManifest };
  }
  // An interrupted conversion's networks whose files are all stored are kept (every file is hashed
  // again at the end); anything else of it goes. The job is recorded before any download.
  if (prior?.job && prior.steps) {
    for (const [name, st] of Object.entries(prior.steps)) {
      let whole = true;
      for (const f of st.files) whole &&= !!(await store.file(key, f.sha256));
      if (whole) steps[name] = st;
    }
    await store.prune(key, new Set(Object.values(steps).flatMap((st) => st.files.map((f) => f.sha256))));
  } else await store.deletePack(key);
  await record();
  const kept = Object.keys(steps).map((st) => NETWORKS[st] ?? st);
  try {
    if (spec.source === 'hub') emit({ phase: 'list', done: 0, total: 1 });
    const sizes = await inputs.sizes();
    const weightBytes = sizes.convert;
    const clock = new JobClock(sizes, now);
    const folders = await inputs.folders((bytes, p) => {
      clock.advance('download', bytes);
      emit({ phase: 'download', ...p }, clock);
    });
    cancelled();

    // Convert: the CLI's code, reading from storage (or the picked files), writing into storage.
    let network = '';
    let read = 0;
    let lastEmit = 0;
    const onRead = (n: number, path: string) => {
      const step = Math.min(n, Math.max(0, weightBytes - read));
      read += step;
      clock.advance('convert', step);
      // A network's weights are read, converted and written in one synchronous stretch (a full-size
      // UNet: minutes): progress goes out as they are read (a worker's postMessage leaves at once).
      const t = now();
      if (t - lastEmit >= 500) {
        lastEmit = t;
        emit({ phase: 'convert', done: read, total: weightBytes, reading: path, ...more }, clock);
      }
    };
    const folder = (id: RepoId) => countingFolder(inputs.folderName(id), folders[id], env, onRead);
    const lavie = folder('lavie');
    const ref = (path: string): FileRef => ({ folder: lavie, path });
    const more = kept.length ? { kept } : {};
    emit({ phase: 'convert', done: 0, total: weightBytes, ...more }, clock);
    const sink = storePackSink(store, key, env.scratch(key), {
      info: { origin, job: spec, source: spec.source },
      signal: o.signal,
      onFile: (path) => {
        network = NETWORKS[path.split('/')[0]!] ?? network;
        emit({ phase: 'convert', done: read, total: weightBytes, item: network, ...more }, clock);
      },
      resume: { ...steps },
      onCheckpoint: async (name, st) => {
        steps[name] = st;
        await record();
      },
    });
    const manifest = await convertOfficial({
      base: ref('lavie_base.pt'),
      sd14: folder('sd14'),
      ...(choice.stages.interp ? { interp: ref('lavie_interpolation.pt') } : {}),
      ...(choice.stages.vsr ? { vsr: { checkpoint: ref('lavie_vsr.pt'), x4: folder('x4'), ...(spec.vsrConfig ? { config: spec.vsrConfig } : {}) } } : {}),
    }, sink, {
      name: jobName(spec),
      unetPrecision: spec.precisions.unet,
      vaePrecision: spec.precisions.vae,
      textPrecision: spec.precisions.text,
      ...(spec.frames ? { frames: spec.frames } : {}),
      ...(spec.latent ? { latent: spec.latent } : {}),
      log: o.onLog,
    });
    clock.advance('convert', clock.left.convert);

    // Verify what storage holds against the manifest, file by file.
    const files = packFiles(manifest);
    const total = files.reduce((s, f) => s + f.bytes, 0);
    // The clock counted the estimated size; the real one is known now (the fraction must not go back).
    const scale = clock.left.verify / Math.max(1, total);
    let verified = 0;
    for (const f of files) {
      cancelled();
      const b = await store.file(key, f.sha256);
      const got = b ? (await hashBlob(b, undefined, (n) => { verified += n; clock.advance('verify', n * scale); emit({ phase: 'verify', done: verified, total, item: f.path }, clock); })).hex() : null;
      if (got !== f.sha256) {
        for (const st of Object.keys(steps)) delete steps[st]; // nothing of it is trusted for a resume
        await store.deletePack(key);
        throw new PackInvalidError(`${f.path}: what storage holds differs from what was converted (storage failing?); nothing was kept`, f.path);
      }
    }

    await inputs.finish();
    clock.advance('verify', clock.left.verify);
    emit({ phase: 'done', done: 1, total: 1 }, clock);
    return { key, manifest };
  } catch (e) {
    // Nothing half-converted is offered as a pack: a Hub job keeps its record, the verified downloads
    // and the networks converted so far (to resume); a job from picked files is forgotten.
    const cancel = e instanceof CancelledError || o.signal?.aborted;
    if (spec.source !== 'hub') await store.deletePack(key).catch(() => undefined);
    const err = e as { code?: string; message?: string };
    if (spec.source === 'hub') await record(cancel ? { cancelled: true } : { error: { code: err.code ?? 'internal', message: err.message ?? String(e) } }).catch(() => undefined);
    throw cancel && !(e instanceof CancelledError) ? new CancelledError('Conversion cancelled. It can be resumed: downloaded files and the networks already converted are kept.') : e;
  }
}

function gb(n: number): string {
  return n >= 1e9 ? `${(n / 1e9).toFixed(1)} GB` : `${(n / 1e6).toFixed(0)} MB`;
}

/** Messages of the conversion worker (workers/convert.worker.ts). Errors travel as ErrorInfo. */
export type ConvertRequest =
  | { type: 'plan'; id: string; spec: ConvertJobSpec }
  | { type: 'start'; id: string; spec: ConvertJobSpec; files?: PickedFile[] }
  /** Which picked files are which, and what the stages still lack. */
  | { type: 'sort'; id: string; stages: string; files: PickedFile[] }
  | { type: 'cancel'; id: string }
  | { type: 'pending'; id: string }
  | { type: 'discard'; id: string; key: string };

export type ConvertEvent =
  | { type: 'plan'; id: string; download: number; stored: number; cached: number; files: number }
  | { type: 'sorted'; id: string; found: string[]; unknown: string[]; missing: string[] }
  | { type: 'progress'; id: string; progress: ConvertProgress }
  | { type: 'done'; id: string; key: string; name: string }
  | { type: 'pending'; id: string; jobs: PendingJob[] }
  | { type: 'discarded'; id: string }
  | { type: 'error'; id: string; error: { code: string; message: string; recoverable: boolean } };
