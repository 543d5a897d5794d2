// Fallback for browsers without OPFS: verified files in Cache Storage (what transformers.js and
// WebLLM use). Cache entries cannot be appended to, so an unfinished download is kept as Blob parts
// (disk-backed in Chromium) for the life of the page: it resumes after a cut connection, not after
// a reload.
import { storageError, type PackStore } from './pack-store.ts';

const CACHE = 'lavie-packs-v1';
const url = (pack: string, name: string) => `https://lavie-pack.invalid/${pack}/${name}`;

export function cacheStoreAvailable(): boolean {
  return typeof caches !== 'undefined';
}

export function cacheStore(): PackStore {
  const partials = new Map<string, BlobPart[]>();
  const open = () => caches.open(CACHE);
  const keysOf = async (pack?: string) =>
    (await (await open()).keys()).map((r) => new URL(r.url).pathname.split('/').filter(Boolean)).filter(([p]) => !pack || p === pack);
  return {
    kind: 'cache',
    async file(pack, sha) {
      const r = await (await open()).match(url(pack, sha));
      return r ? r.blob() : null;
    },
    async partial(pack, sha) {
      const parts = partials.get(`${pack}/${sha}`);
      return parts ? new Blob(parts) : null;
    },
    async writer(pack, sha, fresh) {
      const k = `${pack}/${sha}`;
      if (fresh || !partials.has(k)) partials.set(k, []);
      const parts = partials.get(k)!;
      return { async write(c) { parts.push(c.slice()); }, async close() {} };
    },
    async commit(pack, sha) {
      const k = `${pack}/${sha}`;
      const blob = new Blob(partials.get(k) ?? []);
      try {
        await (await open()).put(url(pack, sha), new Response(blob, { headers: { 'content-length': String(blob.size) } }));
      } catch (e) {
        throw storageError(e, 'store the download');
      }
      partials.delete(k);
    },
    async discard(pack, sha) {
      partials.delete(`${pack}/${sha}`);
    },
    async readJson(pack, name) {
      const r = await (await open()).match(url(pack, `${name}.json`));
      return r ? r.json().catch(() => null) : null;
    },
    async writeJson(pack, name, value) {
      try {
        await (await open()).put(url(pack, `${name}.json`), new Response(JSON.stringify(value)));
      } catch (e) {
        throw storageError(e, 'save the pack index');
      }
    },
    async files(pack) {
      const c = await open();
      const out: { sha256: string; bytes: number }[] = [];
      for (const [, name] of await keysOf(pack)) {
        if (!name || !/^[0-9a-f]{64}$/.test(name)) continue;
        const r = await c.match(url(pack, name));
        out.push({ sha256: name, bytes: Number(r?.headers.get('content-length') ?? 0) });
      }
      return out;
    },
    async prune(pack, keep) {
      const c = await open();
      for (const [, name] of await keysOf(pack)) if (name && /^[0-9a-f]{64}$/.test(name) && !keep.has(name)) await c.delete(url(pack, name));
    },
    async packs() {
      return [...new Set((await keysOf()).map(([p]) => p!))];
    },
    async deletePack(pack) {
      const c = await open();
      for (const [, name] of await keysOf(pack)) await c.delete(url(pack, name!));
      for (const k of [...partials.keys()]) if (k.startsWith(`${pack}/`)) partials.delete(k);
    },
  };
}
