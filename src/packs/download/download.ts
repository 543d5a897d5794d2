// Streamed, resumable, verified downloads of a pack's files into a PackStore.
// - Streamed: the response body goes chunk by chunk to storage and to the hasher, never whole into memory.
// - Resumable: an unfinished file is continued with `Range: bytes=<have>-` (after a cut connection,
//   a retry, a cancel or a reload); a server that ignores Range starts the file over.
// - Verified: size and sha256 must match the manifest before the file is committed; a mismatch
//   discards the bytes (nothing corrupt is kept) and is reported as PackInvalidError.
// - Bounded retries with exponential backoff for network failures and 408/429/5xx; other HTTP
//   errors fail at once. Cancel (AbortSignal) keeps the partial file for the next attempt.
import { CancelledError } from '../../protocol/errors.ts';
import type { PackFile } from '../manifest.ts';
import { Sha256, hashBlob } from './sha256.ts';
import { PackDownloadError, PackInvalidError } from '../pack-source.ts';
import type { PackStore } from '../storage/pack-store.ts';

export interface DownloadProgress {
  /** File being downloaded (manifest path) and its bytes so far. */
  file: string;
  fileLoaded: number;
  fileBytes: number;
  /** The whole download: bytes present (incl. files already stored) and total. */
  loaded: number;
  total: number;
  /** Recent transfer rate (bytes/s) and estimated time left, once measurable. */
  bytesPerSec?: number;
  etaMs?: number;
  filesDone: number;
  filesTotal: number;
}

export interface DownloadOptions {
  signal?: AbortSignal;
  /** Consecutive failed attempts allowed per file before giving up (default 5). */
  retries?: number;
  /** First backoff delay, doubled per consecutive failure up to `maxBackoffMs`. */
  backoffMs?: number;
  maxBackoffMs?: number;
  fetch?: typeof fetch;
  onProgress?: (p: DownloadProgress) => void;
}

/** Transfer rate over a sliding window of recent samples. */
export class RateMeter {
  private samples: { t: number; bytes: number }[] = [];
  constructor(private readonly windowMs = 3000, private readonly now = () => performance.now()) {}
  add(bytes: number): void {
    const t = this.now();
    this.samples.push({ t, bytes });
    while (this.samples.length > 2 && t - this.samples[0]!.t > this.windowMs) this.samples.shift();
  }
  /** Bytes per second, or undefined until there is enough to say. */
  rate(): number | undefined {
    if (this.samples.length < 2) return undefined;
    const first = this.samples[0]!, last = this.samples[this.samples.length - 1]!;
    const dt = last.t - first.t;
    if (dt < 200) return undefined;
    const bytes = this.samples.slice(1).reduce((s, x) => s + x.bytes, 0);
    return (bytes * 1000) / dt;
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new CancelledError('Download cancelled.'));
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(new CancelledError('Download cancelled.'));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export const retryableStatus = (s: number) => s === 408 || s === 429 || s >= 500;

/** One more failed attempt; throws when the budget is spent. */
export class Attempts {
  private failures = 0;
  constructor(private readonly o: Required<Pick<DownloadOptions, 'retries' | 'backoffMs' | 'maxBackoffMs'>>, private readonly signal?: AbortSignal) {}
  progressed(): void {
    this.failures = 0;
  }
  async failed(err: Error): Promise<void> {
    if (++this.failures > this.o.retries) throw err;
    await sleep(Math.min(this.o.maxBackoffMs, this.o.backoffMs * 2 ** (this.failures - 1)), this.signal);
  }
}

/**
 * Make sure `entry` is in the store, verified. Returns quickly when it already is. `onBytes(n)`
 * reports newly present bytes (negative only when a corrupt file is thrown away).
 */
export async function downloadFile(url: string, entry: PackFile, store: PackStore, pack: string, opts: DownloadOptions, onBytes: (delta: number, fileLoaded: number) => void): Promise<void> {
  if (await store.file(pack, entry.sha256)) return;
  const signal = opts.signal;
  const doFetch = opts.fetch ?? fetch;
  const attempts = new Attempts({ retries: opts.retries ?? 5, backoffMs: opts.backoffMs ?? 500, maxBackoffMs: opts.maxBackoffMs ?? 8000 }, signal);

  // Resume: hash what is already there (the hasher state cannot be stored).
  let hasher = new Sha256();
  let have = 0;
  const partial = await store.partial(pack, entry.sha256);
  if (partial && partial.size <= entry.bytes) {
    await hashBlob(partial, hasher);
    have = partial.size;
    onBytes(have, have);
  } else if (partial) {
    await store.discard(pack, entry.sha256);
  }

  while (have < entry.bytes || entry.bytes === 0) {
    if (signal?.aborted) throw new CancelledError('Download cancelled.');
    let res: Response;
    try {
      res = await doFetch(url, { signal, cache: 'no-store', headers: have > 0 ? { Range: `bytes=${have}-` } : {} });
    } catch (e) {
      if (signal?.aborted) throw new CancelledError('Download cancelled.');
      await attempts.failed(new PackDownloadError(`Could not download ${entry.path}: ${(e as Error).message}`, url));
      continue;
    }
    if (res.status === 416 && have === entry.bytes) break;
    if (!res.ok) {
      void res.body?.cancel().catch(() => undefined);
      const err = new PackDownloadError(`${entry.path}: HTTP ${res.status} from ${url}`, url);
      if (!retryableStatus(res.status)) throw err;
      await attempts.failed(err);
      continue;
    }
    // A server that ignores Range sends the whole file again: skip what we already have (the
    // final sha256 still covers every byte).
    let skip = 0;
    if (have > 0 && res.status !== 206) {
      skip = have;
    } else if (have > 0) {
      const start = Number(/bytes (\d+)-/.exec(res.headers.get('content-range') ?? '')?.[1] ?? -1);
      if (start !== have) {
        void res.body?.cancel().catch(() => undefined);
        await attempts.failed(new PackDownloadError(`${entry.path}: the server resumed at byte ${start}, not ${have}`, url));
        continue;
      }
    }
    const fresh = have === 0;
    const writer = await store.writer(pack, entry.sha256, fresh);
    let failure: Error | null = null;
    try {
      const reader = res.body!.getReader();
      for (;;) {
        const { done, value: got } = await reader.read();
        if (done) break;
        let value = got;
        if (skip > 0) {
          const n = Math.min(skip, value.byteLength);
          skip -= n;
          value = value.subarray(n);
          if (!value.byteLength) continue;
        }
        if (have + value.byteLength > entry.bytes) {
          await reader.cancel().catch(() => undefined);
          throw new PackInvalidError(`${entry.path}: the server sent more than the manifest's ${entry.bytes} bytes (wrong or corrupt file); it was not kept`, entry.path);
        }
        await writer.write(value);
        hasher.update(value);
        have += value.byteLength;
        onBytes(value.byteLength, have);
        attempts.progressed();
      }
    } catch (e) {
      failure = e as Error;
    } finally {
      await writer.close(); // keep what arrived: the next attempt resumes from here
    }
    if (failure instanceof PackInvalidError) {
      await store.discard(pack, entry.sha256);
      onBytes(-have, 0);
      throw failure;
    }
    if (signal?.aborted) throw new CancelledError('Download cancelled.');
    if (failure) {
      if ((failure as { code?: string }).code === 'storage-full') throw failure;
      await attempts.failed(new PackDownloadError(`${entry.path}: the connection broke at ${have} of ${entry.bytes} bytes (${failure.message})`, url));
      continue;
    }
    if (have < entry.bytes) {
      await attempts.failed(new PackDownloadError(`${entry.path}: the connection closed at ${have} of ${entry.bytes} bytes`, url));
      continue;
    }
    if (entry.bytes === 0) break;
  }
  const digest = hasher.hex();
  if (digest !== entry.sha256) {
    await store.discard(pack, entry.sha256);
    onBytes(-have, 0);
    throw new PackInvalidError(`${entry.path}: sha256 mismatch — the download is corrupt (or the manifest is wrong); it was not kept`, entry.path);
  }
  await store.commit(pack, entry.sha256);
}

/** Download every listed file that the store lacks, one after another, with overall progress. */
export async function downloadFiles(baseUrl: string, files: PackFile[], store: PackStore, pack: string, opts: DownloadOptions = {}): Promise<void> {
  const total = files.reduce((s, f) => s + f.bytes, 0);
  const present = new Set((await store.files(pack)).map((f) => f.sha256));
  let loaded = files.filter((f) => present.has(f.sha256)).reduce((s, f) => s + f.bytes, 0);
  let filesDone = files.filter((f) => present.has(f.sha256)).length;
  const meter = new RateMeter();
  let lastEmit = 0;
  const emit = (file: PackFile, fileLoaded: number, force = false) => {
    const t = performance.now();
    if (!force && t - lastEmit < 100) return;
    lastEmit = t;
    const bytesPerSec = meter.rate();
    opts.onProgress?.({
      file: file.path, fileLoaded, fileBytes: file.bytes, loaded, total, filesDone, filesTotal: files.length,
      ...(bytesPerSec ? { bytesPerSec, etaMs: ((total - loaded) / bytesPerSec) * 1000 } : {}),
    });
  };
  for (const f of files) {
    if (present.has(f.sha256)) continue;
    emit(f, 0, true);
    await downloadFile(new URL(f.path, baseUrl).href, f, store, pack, opts, (delta, fileLoaded) => {
      loaded += delta;
      if (delta > 0) meter.add(delta);
      emit(f, fileLoaded);
    });
    filesDone++;
    present.add(f.sha256);
    emit(f, f.bytes, true);
  }
}
