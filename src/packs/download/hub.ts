// A client for the Hugging Face Hub's public HTTP API, or any server that behaves like it (a
// mirror, the tests' local hub). Runtime-agnostic: only fetch, so Node and the browser share it.
//  - list:     GET <endpoint>/api/models/<repo>/tree/<revision>?recursive=true (pages linked by
//              `Link: <…>; rel="next"`): every file with its size, git blob id, and the sha256 of
//              LFS files (the weights).
//  - download: <endpoint>/<repo>/resolve/<revision>/<path>, which answers 302 to a CDN origin; large
//              (LFS) files stream into a PackStore with Range resume and sha256 verification
//              (download.ts); small files (configs, tokenizer) are fetched whole and checked
//              against their git blob id.
// Failures become HubError with a code saying what happened and what to do (protocol/errors.ts).
import { LaVieError, type ErrorCode } from '../../protocol/errors.ts';
import { PackDownloadError, PackInvalidError } from '../pack-source.ts';
import type { PackStore } from '../storage/pack-store.ts';
import { packKey } from '../storage/pack-store.ts';
import { Attempts, downloadFile, retryableStatus } from './download.ts';
import { packUrlAllowed } from './hosts.ts';
import { Sha256 } from './sha256.ts';

export const DEFAULT_HUB_ENDPOINT = 'https://huggingface.co';

export type HubErrorCode = Extract<ErrorCode, `hub-${string}`>;

export class HubError extends LaVieError {
  constructor(code: HubErrorCode, message: string, readonly url?: string, readonly status?: number) {
    super(code, message);
  }
}

/** A file of a repo at a revision. `sha256` is known for LFS files (the Hub's large-file store). */
export interface HubFile { path: string; size: number; oid: string; sha256?: string }

export interface HubOptions {
  endpoint: string;
  /** Sent as a bearer token (fetch drops it when the endpoint redirects to another origin). */
  token?: string;
  fetch?: typeof fetch;
  signal?: AbortSignal;
  /** Consecutive failed attempts per request (default 5), first backoff and its cap. */
  retries?: number;
  backoffMs?: number;
  maxBackoffMs?: number;
}

/**
 * The endpoint to use: a run-time override (like HF_ENDPOINT), else the build-time default, else
 * huggingface.co. In the browser an override must pass the deployment's host allow-list.
 */
export function hubEndpoint(override: string | undefined, buildDefault?: string, allow?: { selfOrigin: string; hosts: string[] }): string {
  const chosen = override?.trim() || buildDefault?.trim() || DEFAULT_HUB_ENDPOINT;
  let u: URL;
  try {
    u = new URL(chosen);
  } catch {
    throw new HubError('hub-endpoint-refused', `"${chosen}" is not a web address`);
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new HubError('hub-endpoint-refused', `${chosen}: only http(s) addresses can serve models`);
  if (override?.trim() && allow && !packUrlAllowed(u.href, allow.selfOrigin, allow.hosts)) {
    throw new HubError('hub-endpoint-refused', `${u.origin} is not among the model sites this deployment allows (${allow.hosts.join(', ')})`);
  }
  return u.href.replace(/\/+$/, '');
}

const encodePath = (p: string) => p.split('/').map(encodeURIComponent).join('/');

export function resolveUrl(endpoint: string, repo: string, revision: string, path: string): string {
  return `${endpoint}/${repo}/resolve/${encodeURIComponent(revision)}/${encodePath(path)}`;
}

/** What an HTTP status means for a Hub request. */
function statusError(status: number, what: string, url: string): HubError {
  if (status === 401 || status === 403) return new HubError('hub-gated', `${what}: access refused (HTTP ${status})`, url, status);
  if (status === 404) return new HubError('hub-not-found', `${what}: not found (HTTP 404)`, url, status);
  return new HubError('hub-unavailable', `${what}: HTTP ${status}`, url, status);
}

/** fetch with the retry policy of downloads; network failures before any answer are "offline". */
async function request(o: HubOptions, url: string, what: string, init: RequestInit = {}): Promise<Response> {
  const doFetch = o.fetch ?? fetch;
  const attempts = new Attempts({ retries: o.retries ?? 5, backoffMs: o.backoffMs ?? 500, maxBackoffMs: o.maxBackoffMs ?? 8000 }, o.signal);
  for (;;) {
    let res: Response;
    try {
      res = await doFetch(url, { ...init, signal: o.signal, cache: 'no-store' });
    } catch (e) {
      if (o.signal?.aborted) throw e;
      await attempts.failed(new HubError('hub-offline', `${what}: cannot reach ${new URL(url).origin} (${(e as Error).message})`, url));
      continue;
    }
    if (res.ok) return res;
    void res.body?.cancel().catch(() => undefined);
    const err = statusError(res.status, what, url);
    if (!retryableStatus(res.status)) throw err;
    await attempts.failed(err);
  }
}

const auth = (o: HubOptions): Record<string, string> => (o.token ? { authorization: `Bearer ${o.token}` } : {});

/** Every file of `repo` at `revision`, folders walked recursively. */
export async function listRepo(o: HubOptions, repo: string, revision: string): Promise<HubFile[]> {
  const files: HubFile[] = [];
  let url: string | null = `${o.endpoint}/api/models/${repo}/tree/${encodeURIComponent(revision)}?recursive=true`;
  for (let page = 0; url; page++) {
    if (page > 1000) throw new HubError('hub-unavailable', `${repo}: the file listing does not end`, url);
    const res = await request(o, url, `${repo}@${revision}`, { headers: auth(o) });
    let body: unknown;
    try {
      body = await res.json();
    } catch {
      throw new HubError('hub-unavailable', `${repo}@${revision}: the file listing is not JSON`, url);
    }
    if (!Array.isArray(body)) throw new HubError('hub-unavailable', `${repo}@${revision}: the file listing is not a list`, url);
    for (const e of body as { type?: unknown; path?: unknown; size?: unknown; oid?: unknown; lfs?: { oid?: unknown } }[]) {
      if (e?.type !== 'file') continue;
      if (typeof e.path !== 'string' || !Number.isSafeInteger(e.size) || (e.size as number) < 0 || typeof e.oid !== 'string') {
        throw new HubError('hub-unavailable', `${repo}@${revision}: malformed entry in the file listing`, url);
      }
      const sha = typeof e.lfs?.oid === 'string' ? e.lfs.oid.replace(/^sha256:/, '') : undefined;
      if (sha !== undefined && !/^[0-9a-f]{64}$/.test(sha)) throw new HubError('hub-unavailable', `${repo}@${revision}: ${e.path} has a malformed sha256`, url);
      files.push({ path: e.path, size: e.size as number, oid: e.oid, ...(sha ? { sha256: sha } : {}) });
    }
    const next: string | undefined = /<([^>]+)>\s*;\s*rel="?next"?/.exec(res.headers.get('link') ?? '')?.[1];
    url = next ? new URL(next, url).href : null;
  }
  return files;
}

/** Where a repo's downloads live in the store: one namespace per repo (content-addressed, so
 * revisions and mirrors share what is the same). */
export const hubStoreKey = (repo: string) => packKey(`hub:${repo}`);

/** Git's blob id (sha1 of "blob <size>\0" + bytes): how the Hub names small, non-LFS files. */
export async function gitBlobId(data: Uint8Array): Promise<string> {
  const head = new TextEncoder().encode(`blob ${data.byteLength}\0`);
  const all = new Uint8Array(head.byteLength + data.byteLength);
  all.set(head);
  all.set(data, head.byteLength);
  const d = await crypto.subtle.digest('SHA-1', all);
  return Array.from(new Uint8Array(d), (b) => b.toString(16).padStart(2, '0')).join('');
}

/** Small files: the biggest config / tokenizer file is ~1 MB; anything larger must come through LFS. */
const MAX_SMALL_FILE = 64 << 20;

/** git blob id → sha256 of the small files already stored (kept as the namespace's index). */
async function smallIndex(store: PackStore, ns: string): Promise<Record<string, string>> {
  const j = (await store.readJson(ns, 'info')) as { blobs?: Record<string, string> } | null;
  return { ...(j?.blobs ?? {}) };
}

/**
 * Make sure `file` is in the store, verified; returns its sha256 (the name it is stored under).
 * `onBytes(delta)` reports bytes as they become present.
 */
export async function fetchHubFile(o: HubOptions, repo: string, revision: string, file: HubFile, store: PackStore, onBytes: (delta: number) => void = () => {}): Promise<string> {
  const ns = hubStoreKey(repo);
  const url = resolveUrl(o.endpoint, repo, revision, file.path);
  const what = `${repo}/${file.path}`;
  if (file.sha256) {
    if (await store.file(ns, file.sha256)) {
      onBytes(file.size);
      return file.sha256;
    }
    let answered = false;
    let status = 0;
    const watched: typeof fetch = async (input, init) => {
      const res = await (o.fetch ?? fetch)(input, { ...init, headers: { ...(init?.headers as Record<string, string>), ...auth(o) } });
      answered = true;
      status = res.status;
      return res;
    };
    try {
      await downloadFile(url, { path: file.path, bytes: file.size, sha256: file.sha256 }, store, ns, { fetch: watched, signal: o.signal, retries: o.retries, backoffMs: o.backoffMs, maxBackoffMs: o.maxBackoffMs }, (d) => onBytes(d));
    } catch (e) {
      if (e instanceof PackInvalidError) throw new HubError('hub-corrupt', `${what}: the bytes received do not match the published checksum; they were not kept`, url);
      if (e instanceof PackDownloadError) {
        if (status && !(status >= 200 && status < 300) && status !== 416) throw statusError(status, what, url);
        if (!answered) throw new HubError('hub-offline', `${what}: cannot reach ${new URL(url).origin}`, url);
        throw new HubError('hub-cut', `${e.message}; run again to resume`, url);
      }
      throw e;
    }
    return file.sha256;
  }
  // A small file: fetched whole, checked against its git blob id, stored under its sha256.
  const index = await smallIndex(store, ns);
  const known = index[file.oid];
  if (known && (await store.file(ns, known))) {
    onBytes(file.size);
    return known;
  }
  if (file.size > MAX_SMALL_FILE) throw new HubError('hub-unavailable', `${what}: a ${file.size}-byte file without a published checksum`, url);
  const res = await request(o, url, what, { headers: auth(o) });
  let data: Uint8Array;
  try {
    data = new Uint8Array(await res.arrayBuffer());
  } catch (e) {
    if (o.signal?.aborted) throw e;
    throw new HubError('hub-cut', `${what}: the connection broke (${(e as Error).message}); run again`, url);
  }
  if (data.byteLength !== file.size || (await gitBlobId(data)) !== file.oid) {
    throw new HubError('hub-corrupt', `${what}: the bytes received do not match the published checksum; they were not kept`, url);
  }
  const sha = new Sha256().update(data).hex();
  const w = await store.writer(ns, sha, true);
  await w.write(data);
  await w.close();
  await store.commit(ns, sha);
  // Re-read the index: another file of the same repo may have been added meanwhile.
  await store.writeJson(ns, 'info', { blobs: { ...(await smallIndex(store, ns)), [file.oid]: sha } });
  onBytes(file.size);
  return sha;
}

/** Progress over a set of files: bytes present of the total, and the file being fetched. */
export interface HubProgress { loaded: number; total: number; file: string; filesDone: number; filesTotal: number }

/**
 * Fetch `files` of a repo one after another (resumable, verified, cached in `store`); returns
 * path → sha256 of each, ready to be opened from the store.
 */
export async function fetchHubFiles(o: HubOptions, repo: string, revision: string, files: HubFile[], store: PackStore, onProgress?: (p: HubProgress) => void, base: { loaded: number; total: number } = { loaded: 0, total: files.reduce((s, f) => s + f.size, 0) }): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  let done = 0;
  for (const f of files) {
    onProgress?.({ loaded: base.loaded, total: base.total, file: `${repo}/${f.path}`, filesDone: done, filesTotal: files.length });
    out.set(f.path, await fetchHubFile(o, repo, revision, f, store, (d) => {
      base.loaded += d;
      onProgress?.({ loaded: base.loaded, total: base.total, file: `${repo}/${f.path}`, filesDone: done, filesTotal: files.length });
    }));
    done++;
  }
  return out;
}
