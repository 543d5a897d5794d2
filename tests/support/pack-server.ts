// A local HTTP server for delivery tests: serves a folder (a generated pack, or the built app) with
// Range support and CORS, and misbehaves on request — throttles, cuts a file's connection after a
// fraction of it, or serves corrupted bytes — while recording every request it saw.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { readFileSync, statSync } from 'node:fs';
import { extname, join, normalize } from 'node:path';
import type { AddressInfo } from 'node:net';

export interface Fault {
  /** Bytes per second for file bodies (0: unthrottled). */
  throttle?: number;
  /** Cut the connection of the next N full (non-Range) responses of files matching, after this fraction of the file. */
  cut?: { match: RegExp; at: number; times?: number };
  /** Serve these files with one byte flipped (same length). */
  corrupt?: RegExp;
  /** Answer files matching with this HTTP status. */
  status?: { match: RegExp; code: number; times?: number };
  /** Answer Range requests with the whole file (200), as some servers do. */
  ignoreRange?: boolean;
}

export interface Hit { path: string; range: string | null; status: number; bytes: number }

export interface PackServer {
  url: string;
  origin: string;
  hits: Hit[];
  fault: Fault;
  /** Hits for paths matching (excluding the manifest unless asked). */
  filesHit(match?: RegExp): Hit[];
  close(): Promise<void>;
}

const TYPES: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript', '.css': 'text/css', '.json': 'application/json', '.wasm': 'application/wasm', '.svg': 'image/svg+xml', '.png': 'image/png', '.webmanifest': 'application/manifest+json' };

export async function startPackServer(root: string, opts: { host?: string; headers?: Record<string, string>; spa?: boolean } = {}): Promise<PackServer> {
  const hits: Hit[] = [];
  const state: PackServer = {
    url: '',
    origin: '',
    hits,
    fault: {},
    filesHit: (m) => hits.filter((h) => !h.path.endsWith('manifest.json') && (!m || m.test(h.path))),
    close: () => new Promise((r) => { server.closeAllConnections?.(); server.close(() => r()); }),
  };
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    void serve(req, res).catch(() => res.destroy());
  });
  const sockets = new Set<import('node:net').Socket>();
  server.on('connection', (s) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });

  async function serve(req: IncomingMessage, res: ServerResponse) {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    const base = { 'access-control-allow-origin': '*', 'access-control-allow-headers': 'range', 'access-control-expose-headers': 'content-length, content-range, accept-ranges', 'cross-origin-resource-policy': 'cross-origin', ...opts.headers };
    if (req.method === 'OPTIONS') {
      res.writeHead(204, base).end();
      return;
    }
    let file = normalize(join(root, path));
    if (!file.startsWith(normalize(root))) {
      res.writeHead(403, base).end();
      return;
    }
    let st = statSync(file, { throwIfNoEntry: false });
    if (st?.isDirectory()) {
      file = join(file, 'index.html');
      st = statSync(file, { throwIfNoEntry: false });
    }
    if (!st && opts.spa && !extname(path)) {
      file = join(root, 'index.html');
      st = statSync(file, { throwIfNoEntry: false });
    }
    const range = req.headers.range ?? null;
    const f = state.fault;
    if (f.status && f.status.match.test(path) && (f.status.times ?? 1) > 0) {
      f.status.times = (f.status.times ?? 1) - 1;
      hits.push({ path, range, status: f.status.code, bytes: 0 });
      res.writeHead(f.status.code, base).end();
      return;
    }
    if (!st) {
      hits.push({ path, range, status: 404, bytes: 0 });
      res.writeHead(404, base).end('not found');
      return;
    }
    let data: Buffer = readFileSync(file);
    if (f.corrupt?.test(path)) {
      data = Buffer.from(data);
      data[data.length >> 1]! ^= 0xff;
    }
    let start = 0;
    let status = 200;
    const headers: Record<string, string> = { ...base, 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'accept-ranges': 'bytes', 'cache-control': 'no-cache' };
    const m = range && !f.ignoreRange ? /^bytes=(\d+)-$/.exec(range) : null;
    if (m) {
      start = Number(m[1]);
      if (start >= data.length) {
        hits.push({ path, range, status: 416, bytes: 0 });
        res.writeHead(416, { ...headers, 'content-range': `bytes */${data.length}` }).end();
        return;
      }
      status = 206;
      headers['content-range'] = `bytes ${start}-${data.length - 1}/${data.length}`;
    }
    const body = data.subarray(start);
    headers['content-length'] = String(body.length);
    let limit = body.length;
    const cut = f.cut;
    if (cut && !range && cut.match.test(path) && (cut.times ?? 1) > 0) {
      cut.times = (cut.times ?? 1) - 1;
      limit = Math.floor(data.length * cut.at);
    }
    const hit: Hit = { path, range, status, bytes: 0 };
    hits.push(hit);
    res.writeHead(status, headers);
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    const chunk = 16 * 1024;
    for (let o = 0; o < limit; o += chunk) {
      const piece = body.subarray(o, Math.min(limit, o + chunk));
      // A client that went away never drains: wait for 'close' too, or the handler hangs forever.
      if (!res.write(piece)) await drainedOrClosed(res);
      hit.bytes += piece.length;
      if (f.throttle) await new Promise((r) => setTimeout(r, (piece.length / f.throttle!) * 1000));
      if (res.destroyed) return;
    }
    if (limit < body.length) {
      res.socket?.destroy(); // a cut connection: the client sees a truncated body
      return;
    }
    res.end();
  }

  await new Promise<void>((r) => server.listen(0, opts.host ?? '127.0.0.1', () => r()));
  const port = (server.address() as AddressInfo).port;
  state.origin = `http://${opts.host === 'localhost' ? 'localhost' : '127.0.0.1'}:${port}`;
  state.url = `${state.origin}/`;
  const close = state.close;
  state.close = async () => {
    for (const s of sockets) s.destroy();
    await close();
  };
  return state;
}

/** A client that went away never drains: wait for 'close' too, and leave no listeners behind. */
export function drainedOrClosed(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}
