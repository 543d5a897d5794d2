// A pack in a local directory (Node: tests, CLIs, benchmarks).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseManifest } from '../manifest.ts';
import type { PackSource } from '../pack-source.ts';
import { fileEntry, verifyFile } from './verify.ts';

export function openDirPack(dir: string): PackSource {
  const manifest = parseManifest(JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')));
  return {
    manifest,
    async read(path) {
      const entry = fileEntry(manifest, path);
      const data = new Uint8Array(readFileSync(join(dir, entry.path)));
      await verifyFile(entry, data);
      return data;
    },
  };
}
