// A PackStore in a folder on disk (Node: the converter's --cache for Hub downloads). Same layout
// as the OPFS store: <root>/<pack>/<sha256> (verified), <sha256>.part (unfinished), {manifest,info}.json.
import { closeSync, existsSync, mkdirSync, openAsBlob, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { PackStore } from './pack-store.ts';

export interface FsPackStore extends PackStore {
  /** Path of a verified file (for positional reads), or null. */
  path(pack: string, sha256: string): string | null;
}

export function fsStore(root: string): FsPackStore {
  const dir = (pack: string) => {
    const d = join(root, pack);
    mkdirSync(d, { recursive: true });
    return d;
  };
  const at = (pack: string, name: string) => join(root, pack, name);
  const blob = async (p: string) => (existsSync(p) ? ((await openAsBlob(p)) as Blob) : null);
  const files = async (pack: string) => (existsSync(join(root, pack)) ? readdirSync(join(root, pack)).filter((n) => /^[0-9a-f]{64}$/.test(n)).map((sha256) => ({ sha256, bytes: statSync(at(pack, sha256)).size })) : []);
  return {
    kind: 'fs',
    path: (pack, sha) => (existsSync(at(pack, sha)) ? at(pack, sha) : null),
    file: (pack, sha) => blob(at(pack, sha)),
    partial: (pack, sha) => blob(at(pack, `${sha}.part`)),
    async writer(pack, sha, fresh) {
      const fd = openSync(join(dir(pack), `${sha}.part`), fresh ? 'w' : 'a');
      return {
        async write(c) {
          let off = 0;
          while (off < c.byteLength) off += writeSync(fd, c, off);
        },
        async close() {
          closeSync(fd);
        },
      };
    },
    async commit(pack, sha) {
      renameSync(at(pack, `${sha}.part`), at(pack, sha));
    },
    async discard(pack, sha) {
      rmSync(at(pack, `${sha}.part`), { force: true });
    },
    async readJson(pack, name) {
      try {
        return JSON.parse(readFileSync(at(pack, `${name}.json`), 'utf8'));
      } catch {
        return null;
      }
    },
    async writeJson(pack, name, value) {
      const p = join(dir(pack), `${name}.json`);
      writeFileSync(`${p}.tmp`, JSON.stringify(value));
      renameSync(`${p}.tmp`, p);
    },
    files,
    async prune(pack, keep) {
      for (const f of await files(pack)) if (!keep.has(f.sha256)) rmSync(at(pack, f.sha256), { force: true });
    },
    async packs() {
      return existsSync(root) ? readdirSync(root, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name) : [];
    },
    async deletePack(pack) {
      rmSync(join(root, pack), { recursive: true, force: true });
    },
  };
}
