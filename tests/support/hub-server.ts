// A local server that behaves like the Hugging Face Hub, on loopback only, for the --from-hub and
// browser conversion tests. Two origins, as on the real Hub:
//   endpoint  GET /api/models/<owner>/<name>/tree/<rev>?recursive=true  → JSON pages (Link rel="next"),
//               files with size, git blob id, and lfs.oid (sha256) for large files;
//             GET /<owner>/<name>/resolve/<rev>/<path> → small files served directly; large (LFS)
//               files answer 302 to the CDN origin (X-Linked-Etag / X-Linked-Size as the Hub sends);
//   cdn       GET /<sha256> with CORS, Range and ETag "<sha256>".
// It misbehaves on request (gated repos, a status for matching paths, a connection cut after a
// fraction of a file, corrupted bytes) and records every request.
import { createHash } from 'node:crypto';
import { closeSync, createReadStream, openSync, readSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Socket } from 'node:net';
import { drainedOrClosed } from './pack-server.ts';

export interface HubFault {
  /** Repos that answer 401 (listing) and 403 (files), as gated repos do. */
  gated?: Set<string>;
  /** Answer requests whose path matches with this status (the next `times` of them; default all). */
  status?: { match: RegExp; code: number; times?: number };
  /** Cut the connection of the next `times` (default 1) CDN responses of files matching, after this fraction. */
  cut?: { match: RegExp; at: number; times?: number };
  /** Flip one byte of CDN/small-file bodies whose repo path matches. */
  corrupt?: RegExp;
}

export interface HubHit { origin: 'api' | 'cdn'; path: string; range: string | null; status: number; bytes: number }

/** A file served from disk (too large to hold in memory: the full-size memory bench), hashed once by `fileBody`. */
export interface FileBody { file: string; size: number; sha256: string; oid: string }
type Bytes = Uint8Array | FileBody;

/** A file on disk as a repo file: its sha256 and git blob id computed in one streaming pass. */
export async function fileBody(file: string): Promise<FileBody> {
  const size = statSync(file).size;
  const sha = createHash('sha256');
  const git = createHash('sha1').update(`blob ${size}\0`);
  for await (const c of createReadStream(file, { highWaterMark: 1 << 22 })) {
    sha.update(c as Buffer);
    git.update(c as Buffer);
  }
  return { file, size, sha256: sha.digest('hex'), oid: git.digest('hex') };
}

interface Stored { data: Bytes; size: number; sha256: string; oid: string; lfs: boolean }

export interface FakeHub {
  /** The endpoint (like https://huggingface.co). */
  endpoint: string;
  cdnOrigin: string;
  hits: HubHit[];
  fault: HubFault;
  /** Publish `files` (path → bytes, or a file on disk) as `repo` at `revision` (default main). */
  setRepo(repo: string, files: Map<string, Uint8Array | FileBody>, revision?: string): void;
  /** Listing entries per page (default 1000; small values test pagination). */
  pageSize: number;
  close(): Promise<void>;
}

/** The Hub stores weights and other large binaries through LFS. */
const isLfs = (path: string) => /\.(pt|bin|safetensors|ckpt|msgpack|onnx)$/.test(path);

const gitOid = (d: Uint8Array) => createHash('sha1').update(`blob ${d.byteLength}\0`).update(d).digest('hex');

const CORS = {
  'access-control-allow-origin': '*',
  'access-control-allow-headers': 'range, authorization',
  'access-control-expose-headers': 'content-length, content-range, accept-ranges, etag, link, x-linked-etag, x-linked-size, x-error-code',
  'cross-origin-resource-policy': 'cross-origin',
};

export async function startFakeHub(): Promise<FakeHub> {
  const repos = new Map<string, Map<string, Map<string, Stored>>>();
  const blobs = new Map<string, { data: Bytes; path: string }>();
  const hits: HubHit[] = [];
  const sockets = new Set<Socket>();
  const hub: FakeHub = {
    endpoint: '',
    cdnOrigin: '',
    hits,
    fault: {},
    pageSize: 1000,
    setRepo(repo, files, revision = 'main') {
      const revs = repos.get(repo) ?? new Map<string, Map<string, Stored>>();
      repos.set(repo, revs);
      const m = new Map<string, Stored>();
      for (const [path, data] of files) {
        const s: Stored = data instanceof Uint8Array
          ? { data, size: data.byteLength, sha256: createHash('sha256').update(data).digest('hex'), oid: gitOid(data), lfs: isLfs(path) }
          : { data, size: data.size, sha256: data.sha256, oid: data.oid, lfs: isLfs(path) };
        m.set(path, s);
        if (s.lfs) blobs.set(s.sha256, { data, path });
      }
      revs.set(revision, m);
    },
    close: async () => {
      for (const s of sockets) s.destroy();
      await Promise.all([api, cdn].map((srv) => new Promise<void>((r) => srv.close(() => r()))));
    },
  };

  const faultStatus = (path: string): number | null => {
    const f = hub.fault.status;
    if (!f || !f.match.test(path) || (f.times ?? Infinity) <= 0) return null;
    if (f.times !== undefined) f.times--;
    return f.code;
  };
  const maybeCorrupt = (path: string, data: Bytes) => {
    if (!hub.fault.corrupt?.test(path) || !(data instanceof Uint8Array)) return data;
    const c = data.slice();
    c[c.length >> 1]! ^= 0xff;
    return c;
  };

  function error(res: ServerResponse, hit: HubHit, status: number, code: string) {
    hit.status = status;
    res.writeHead(status, { ...CORS, 'content-type': 'application/json', 'x-error-code': code }).end(JSON.stringify({ error: code }));
  }

  async function serveApi(req: IncomingMessage, res: ServerResponse) {
    const url = new URL(req.url ?? '/', hub.endpoint);
    const path = url.pathname;
    const hit: HubHit = { origin: 'api', path: decodeURIComponent(path) + url.search, range: req.headers.range ?? null, status: 200, bytes: 0 };
    hits.push(hit);
    if (req.method === 'OPTIONS') return void res.writeHead(204, CORS).end();
    const forced = faultStatus(decodeURIComponent(path));
    if (forced) return error(res, hit, forced, 'Injected');
    const tree = /^\/api\/models\/([^/]+\/[^/]+)\/tree\/([^/]+)(?:\/(.*))?$/.exec(path);
    const resolve = /^\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(path);
    const m = tree ?? resolve;
    if (!m) return error(res, hit, 404, 'NotFound');
    const repo = m[1]!;
    const rev = decodeURIComponent(m[2]!);
    if (hub.fault.gated?.has(repo)) return error(res, hit, tree ? 401 : 403, 'GatedRepo');
    const revs = repos.get(repo);
    if (!revs) return error(res, hit, 404, 'RepoNotFound');
    const files = revs.get(rev);
    if (!files) return error(res, hit, 404, 'RevisionNotFound');
    if (tree) {
      const prefix = m[3] ? `${decodeURIComponent(m[3])}/` : '';
      const recursive = url.searchParams.get('recursive') === 'true' || url.searchParams.get('recursive') === '1';
      const entries: object[] = [];
      const dirs = new Set<string>();
      for (const [p, s] of [...files].sort(([a], [b]) => (a < b ? -1 : 1))) {
        if (!p.startsWith(prefix)) continue;
        const rest = p.slice(prefix.length);
        const parts = rest.split('/');
        for (let i = 1; i < parts.length && (recursive || i === 1); i++) {
          const d = prefix + parts.slice(0, i).join('/');
          if (!dirs.has(d)) {
            dirs.add(d);
            entries.push({ type: 'directory', oid: gitOid(new TextEncoder().encode(d)), size: 0, path: d });
          }
        }
        if (!recursive && parts.length > 1) continue;
        entries.push({ type: 'file', oid: s.oid, size: s.size, path: p, ...(s.lfs ? { lfs: { oid: s.sha256, size: s.size, pointerSize: 134 } } : {}) });
      }
      const cursor = Number(url.searchParams.get('cursor') ?? 0);
      const page = entries.slice(cursor, cursor + hub.pageSize);
      const headers: Record<string, string> = { ...CORS, 'content-type': 'application/json' };
      if (cursor + hub.pageSize < entries.length) {
        const next = new URL(url.href);
        next.searchParams.set('cursor', String(cursor + hub.pageSize));
        headers.link = `<${next.href}>; rel="next"`;
      }
      return void res.writeHead(200, headers).end(JSON.stringify(page));
    }
    const filePath = decodeURIComponent(m[3]!);
    const s = files.get(filePath);
    if (!s) return error(res, hit, 404, 'EntryNotFound');
    if (s.lfs) {
      hit.status = 302;
      return void res.writeHead(302, { ...CORS, location: `${hub.cdnOrigin}/${s.sha256}?repo=${encodeURIComponent(repo)}&file=${encodeURIComponent(filePath)}`, 'x-linked-etag': `"${s.sha256}"`, 'x-linked-size': String(s.size), etag: `"${s.oid}"` }).end();
    }
    await send(req, res, hit, maybeCorrupt(filePath, s.data), { etag: `"${s.oid}"` }, filePath);
  }

  async function serveCdn(req: IncomingMessage, res: ServerResponse) {
    const url = new URL(req.url ?? '/', hub.cdnOrigin);
    const sha = url.pathname.slice(1);
    const hit: HubHit = { origin: 'cdn', path: sha, range: req.headers.range ?? null, status: 200, bytes: 0 };
    hits.push(hit);
    if (req.method === 'OPTIONS') return void res.writeHead(204, CORS).end();
    const b = blobs.get(sha);
    if (!b) return error(res, hit, 404, 'NotFound');
    hit.path = url.searchParams.get('file') ?? b.path; // the same bytes may be several repos' files
    const forced = faultStatus(hit.path);
    if (forced) return error(res, hit, forced, 'Injected');
    await send(req, res, hit, maybeCorrupt(hit.path, b.data), { etag: `"${sha}"` }, hit.path);
  }

  /** The body with Range support, and the cut fault. */
  async function send(req: IncomingMessage, res: ServerResponse, hit: HubHit, data: Bytes, extra: Record<string, string>, path: string) {
    const length = data instanceof Uint8Array ? data.byteLength : data.size;
    const headers: Record<string, string> = { ...CORS, ...extra, 'content-type': 'application/octet-stream', 'accept-ranges': 'bytes' };
    let start = 0;
    const m = hit.range ? /^bytes=(\d+)-$/.exec(hit.range) : null;
    if (m) {
      start = Number(m[1]);
      if (start >= length) {
        hit.status = 416;
        return void res.writeHead(416, { ...headers, 'content-range': `bytes */${length}` }).end();
      }
      hit.status = 206;
      headers['content-range'] = `bytes ${start}-${length - 1}/${length}`;
    }
    const bodyLength = length - start;
    headers['content-length'] = String(bodyLength);
    let limit = bodyLength;
    const cut = hub.fault.cut;
    if (cut && hit.origin === 'cdn' && cut.match.test(path) && (cut.times ?? 1) > 0) {
      cut.times = (cut.times ?? 1) - 1;
      limit = Math.max(0, Math.floor(length * cut.at) - start);
    }
    res.writeHead(hit.status, headers);
    if (req.method === 'HEAD') return void res.end();
    const fd = data instanceof Uint8Array ? null : openSync(data.file, 'r');
    try {
      for (let o = 0; o < limit; o += 64 * 1024) {
        const n = Math.min(limit, o + 64 * 1024) - o;
        let piece: Uint8Array;
        if (fd === null) piece = (data as Uint8Array).subarray(start + o, start + o + n);
        else {
          piece = Buffer.allocUnsafe(n);
          readSync(fd, piece, 0, n, start + o);
        }
        if (!res.write(piece)) await drainedOrClosed(res);
        hit.bytes += piece.length;
        if (res.destroyed) return;
      }
    } finally {
      if (fd !== null) closeSync(fd);
    }
    if (limit < bodyLength) return void res.socket?.destroy();
    res.end();
  }

  const mk = (handler: (req: IncomingMessage, res: ServerResponse) => Promise<void>): Server => {
    const s = createServer((req, res) => void handler(req, res).catch(() => res.destroy()));
    s.on('connection', (c) => { sockets.add(c); c.on('close', () => sockets.delete(c)); });
    return s;
  };
  const api = mk(serveApi);
  const cdn = mk(serveCdn);
  const listen = (s: Server) => new Promise<number>((r) => s.listen(0, '127.0.0.1', () => r((s.address() as AddressInfo).port)));
  hub.endpoint = `http://127.0.0.1:${await listen(api)}`;
  hub.cdnOrigin = `http://127.0.0.1:${await listen(cdn)}`; // another port: another origin, so CORS applies

  return hub;
}
