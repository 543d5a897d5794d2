// Where the official-code fixtures live, and a loud failure when they are missing: a parity test
// that silently skips proves nothing.
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { StateDict } from '../../src/convert/tensor.ts';
import { readSafetensorsFile } from '../../src/convert/cli/node-io.ts';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

export function fixturesRoot(): string {
  const dir = process.env.LAVIE_FIXTURES ?? resolve(REPO_ROOT, '../shared/fixtures/lavie-tiny');
  if (!existsSync(join(dir, 'README.md'))) {
    throw new Error(`LaVie fixtures not found at ${dir}. They ship beside this repository in ../shared/fixtures/lavie-tiny (set LAVIE_FIXTURES to override). Parity tests cannot run without them.`);
  }
  return dir;
}

export function fixtureDir(name: string): string {
  return join(fixturesRoot(), name);
}

/** The full-spatial-size set (narrow channels, real GroupNorm reduction lengths) beside the tiny one. */
export function fullresFixtureDir(name: string): string {
  const dir = process.env.LAVIE_FULLRES_FIXTURES ?? resolve(REPO_ROOT, '../shared/fixtures/lavie-fullres');
  if (!existsSync(join(dir, 'README.md'))) {
    throw new Error(`LaVie full-resolution fixtures not found at ${dir} (set LAVIE_FULLRES_FIXTURES to override). Parity tests cannot run without them.`);
  }
  return join(dir, name);
}

export function fixtureTensors(name: string, file: string): StateDict {
  return readSafetensorsFile(join(fixtureDir(name), file));
}

/** max |a−b| and max |b| over two float arrays of equal length. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): { diff: number; refMax: number } {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let diff = 0;
  let refMax = 0;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i]! - b[i]!));
    refMax = Math.max(refMax, Math.abs(b[i]!));
  }
  return { diff, refMax };
}
