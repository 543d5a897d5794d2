// The layering rules of docs ARCHITECTURE.md that can be checked by reading imports:
// - the engine sees packs only through the manifest schema and the PackSource interface (never how
//   packs are delivered: sources, storage, downloads), and never imports the layers above it;
// - the protocol (src/protocol.ts and src/protocol/) imports nothing outside itself.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Every module specifier a TypeScript file imports or re-exports (static and dynamic). */
export function importsOf(source: string): string[] {
  const out: string[] = [];
  const re = /(?:^|[\s;}])(?:import|export)\s[^'"`;]*?from\s*['"]([^'"]+)['"]|(?:^|[\s;])import\s*['"]([^'"]+)['"]|\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/gm;
  for (const m of source.matchAll(re)) out.push((m[1] ?? m[2] ?? m[3])!);
  return out;
}

/** A repo-relative path for a relative specifier, or the bare specifier (a package). */
function resolve(fromFile: string, spec: string): string {
  return spec.startsWith('.') ? normalize(join(dirname(fromFile), spec)).split('\\').join('/') : spec;
}

interface Rule { name: string; applies(file: string): boolean; allows(target: string): boolean }

const inProtocol = (p: string) => p === 'src/protocol.ts' || p.startsWith('src/protocol/');
const PACK_INTERFACE = new Set(['src/packs/manifest.ts', 'src/packs/pack-source.ts']);

export const RULES: Rule[] = [
  {
    name: 'engine → pack delivery',
    applies: (f) => f.startsWith('src/engine/'),
    allows: (t) => !t.startsWith('src/packs/') || PACK_INTERFACE.has(t),
  },
  {
    name: 'engine → app, workers, embed, video',
    applies: (f) => f.startsWith('src/engine/'),
    allows: (t) => !/^(src\/app|src\/embed|src\/video|workers)\//.test(t),
  },
  {
    name: 'protocol → anything',
    applies: inProtocol,
    allows: inProtocol,
  },
];

/** Violations of `rules` in a set of files (repo-relative path → source text). */
export function violations(files: Map<string, string>, rules: Rule[] = RULES): string[] {
  const out: string[] = [];
  for (const [file, text] of files) {
    for (const spec of importsOf(text)) {
      const target = resolve(file, spec);
      for (const r of rules) if (r.applies(file) && !r.allows(target)) out.push(`${r.name}: ${file} imports ${spec}`);
    }
  }
  return out;
}

function sourceFiles(dir: string, out = new Map<string, string>()): Map<string, string> {
  for (const name of readdirSync(join(ROOT, dir))) {
    const rel = `${dir}/${name}`;
    if (statSync(join(ROOT, rel)).isDirectory()) sourceFiles(rel, out);
    else if (/\.(ts|tsx)$/.test(name)) out.set(rel, readFileSync(join(ROOT, rel), 'utf8'));
  }
  return out;
}

test('the checker sees each kind of import and flags a forbidden one', () => {
  assert.deepEqual(importsOf(`import a from './a.ts';\nimport type { B } from "../b.ts";\nexport * from './c.ts';\nimport './d.ts';\nconst e = await import('./e.ts');\nimport {\n  f,\n} from 'pkg';`), ['./a.ts', '../b.ts', './c.ts', './d.ts', './e.ts', 'pkg']);
  const bad = new Map([
    ['src/engine/x.ts', `import { openUrlPack } from '../packs/sources/url.ts';\nimport type { PackSource } from '../packs/pack-source.ts';`],
    ['src/protocol.ts', `import type { PackManifest } from './packs/manifest.ts';\nimport { x } from './protocol/errors.ts';`],
    ['src/protocol/request.ts', `import { z } from 'zod';`],
  ]);
  assert.deepEqual(violations(bad), [
    'engine → pack delivery: src/engine/x.ts imports ../packs/sources/url.ts',
    'protocol → anything: src/protocol.ts imports ./packs/manifest.ts',
    'protocol → anything: src/protocol/request.ts imports zod',
  ]);
});

test('the source tree keeps the layering rules', () => {
  const files = sourceFiles('src');
  assert.ok([...files.keys()].some((f) => f.startsWith('src/engine/')), 'engine files found');
  assert.deepEqual(violations(files), []);
});
