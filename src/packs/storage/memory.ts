// Pack files in memory: Node tests, and the last resort when a browser offers no persistent storage
// (nothing survives a reload).
import type { PackStore } from './pack-store.ts';

/** In-memory store: Node tests and the last resort when a browser offers no persistent storage. */
export function memoryStore(): PackStore {
  const packs = new Map<string, { files: Map<string, Blob>; partials: Map<string, Uint8Array[]>; json: Map<string, unknown> }>();
  const get = (p: string) => {
    let e = packs.get(p);
    if (!e) packs.set(p, (e = { files: new Map(), partials: new Map(), json: new Map() }));
    return e;
  };
  return {
    kind: 'memory',
    async file(p, sha) {
      return packs.get(p)?.files.get(sha) ?? null;
    },
    async partial(p, sha) {
      const parts = packs.get(p)?.partials.get(sha);
      return parts ? new Blob(parts as BlobPart[]) : null;
    },
    async writer(p, sha, fresh) {
      const e = get(p);
      if (fresh || !e.partials.has(sha)) e.partials.set(sha, []);
      const parts = e.partials.get(sha)!;
      return { async write(c) { parts.push(c.slice()); }, async close() {} };
    },
    async commit(p, sha) {
      const e = get(p);
      e.files.set(sha, new Blob((e.partials.get(sha) ?? []) as BlobPart[]));
      e.partials.delete(sha);
    },
    async discard(p, sha) {
      packs.get(p)?.partials.delete(sha);
    },
    async readJson(p, name) {
      return packs.get(p)?.json.get(name) ?? null;
    },
    async writeJson(p, name, v) {
      get(p).json.set(name, JSON.parse(JSON.stringify(v)));
    },
    async files(p) {
      return [...(packs.get(p)?.files ?? new Map<string, Blob>())].map(([sha256, b]) => ({ sha256, bytes: b.size }));
    },
    async prune(p, keep) {
      const e = packs.get(p);
      for (const sha of [...(e?.files.keys() ?? [])]) if (!keep.has(sha)) e!.files.delete(sha);
    },
    async packs() {
      return [...packs.keys()];
    },
    async deletePack(p) {
      packs.delete(p);
    },
  };
}
