// Checkpoint readers: torch.save zips through the restricted unpickler, safetensors, wrappers,
// dtypes, strided views, hostile pickles and broken files — and the inspect CLI on top.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { CheckpointError } from '../../src/convert/errors.ts';
import { unpickle } from '../../src/convert/io/pickle.ts';
import { PickleWriter } from '../../src/convert/io/torch-writer.ts';
import { f32ToF16, type StateDict, type TensorRef } from '../../src/convert/tensor.ts';
import { runNpmCli } from '../helpers/cli.ts';
import { openCheckpointFile, writeSafetensorsFile, writeTorchCheckpointFile, writeTorchZipFile } from '../../src/convert/cli/node-io.ts';

const dir = mkdtempSync(join(tmpdir(), 'lavie-io-'));
const f32 = (vals: number[], shape: number[]): TensorRef => ({ dtype: 'float32', shape, read: () => Float32Array.from(vals) });
const raw = (dtype: TensorRef['dtype'], bytes: Uint8Array, shape: number[]): TensorRef => ({ dtype, shape, readBytes: () => bytes, read: () => { throw new Error('unused'); } });
const isCkptErr = (code?: string, file?: string) => (e: unknown) => e instanceof CheckpointError && (!code || e.reason === code) && (!file || e.file === file);

function sample(): StateDict {
  const half = new Uint16Array([1, -2.5, 0.25].map(f32ToF16));
  const bf = new Uint16Array([0x3f80, 0xc000]); // 1, -2
  const i64 = new BigInt64Array([3n, -4n, 5n]);
  return new Map<string, TensorRef>([
    ['conv.weight', f32([1, 2, 3, 4, 5, 6, 7, 8], [2, 1, 2, 2])],
    ['norm.bias', f32([0.5, -0.5], [2])],
    ['half', raw('float16', new Uint8Array(half.buffer), [3])],
    ['bf16', raw('bfloat16', new Uint8Array(bf.buffer), [2])],
    ['ids', raw('int64', new Uint8Array(i64.buffer), [3])],
  ]);
}
const EXPECTED: Record<string, number[]> = { 'conv.weight': [1, 2, 3, 4, 5, 6, 7, 8], 'norm.bias': [0.5, -0.5], half: [1, -2.5, 0.25], bf16: [1, -2], ids: [3, -4, 5] };

/** A pickle that calls `mod.name('touch <marker>')` if anything ever executed it. */
function evilPickle(mod: string, name: string, marker: string): Uint8Array {
  const w = new PickleWriter().global(mod, name);
  return w.tuple([() => w.str(`touch ${marker}`)]).op(0x52).finish();
}

test('torch.save zips round-trip: plain, ema-wrapped, state_dict-wrapped; fp32/fp16/bf16/int64', () => {
  for (const wrap of [undefined, 'ema', 'state_dict'] as const) {
    const p = join(dir, `ckpt-${wrap ?? 'plain'}.pt`);
    writeTorchCheckpointFile(p, sample(), { wrap });
    const sd = openCheckpointFile(p);
    assert.deepEqual([...sd.keys()].sort(), Object.keys(EXPECTED).sort());
    for (const [k, v] of Object.entries(EXPECTED)) assert.deepEqual(Array.from(sd.get(k)!.read()), v, k);
    assert.equal(sd.get('half')!.dtype, 'float16');
    assert.deepEqual(sd.get('conv.weight')!.shape, [2, 1, 2, 2]);
  }
});

test('safetensors opens through the same entry point (sniffed by content, not name)', () => {
  const p = join(dir, 'weights.bin');
  writeSafetensorsFile(p, { a: { dtype: 'float32', shape: [2], data: Float32Array.from([1, 2]) } });
  assert.deepEqual(Array.from(openCheckpointFile(p).get('a')!.read()), [1, 2]);
});

test('a strided (non-contiguous) view is gathered correctly', () => {
  // Storage 0..5 viewed as the transpose of a 2×3 matrix: size (3,2), stride (1,3).
  const w = new PickleWriter();
  w.global('collections', 'OrderedDict').op(0x29).op(0x52).mark();
  w.str('t').global('torch._utils', '_rebuild_tensor_v2').mark();
  w.tuple([() => w.str('storage'), () => w.global('torch', 'FloatStorage'), () => w.str('0'), () => w.str('cpu'), () => w.int(6)]).op(0x51);
  w.int(0).tuple([() => w.int(3), () => w.int(2)]).tuple([() => w.int(1), () => w.int(3)]).op(0x89);
  w.global('collections', 'OrderedDict').op(0x29).op(0x52).op(0x74).op(0x52).op(0x75);
  const p = join(dir, 'strided.pt');
  const storage = new Float32Array([0, 1, 2, 3, 4, 5]);
  writeTorchZipFile(p, w.finish(), [() => new Uint8Array(storage.buffer)]);
  assert.deepEqual(Array.from(openCheckpointFile(p).get('t')!.read()), [0, 3, 1, 4, 2, 5]);
});

const EVIL: [string, string][] = [['os', 'system'], ['posix', 'system'], ['builtins', 'eval'], ['__builtin__', 'exec'], ['subprocess', 'Popen'], ['torch', 'load']];

test('hostile pickles are refused by name and nothing runs', () => {
  const marker = join(dir, 'pwned');
  for (const [mod, name] of EVIL) {
    assert.throws(() => unpickle(evilPickle(mod, name, marker), 'evil.pkl'), (e: unknown) => isCkptErr('unsafe-pickle')(e) && (e as Error).message.includes(`${mod}.${name}`));
    const s = new PickleWriter().str(mod).str(name).op(0x93); // STACK_GLOBAL form
    assert.throws(() => unpickle(s.finish(), 'evil.pkl'), isCkptErr('unsafe-pickle'));
  }
  const p = join(dir, 'evil.pt');
  writeTorchZipFile(p, evilPickle('os', 'system', marker), []);
  assert.throws(() => openCheckpointFile(p), isCkptErr('unsafe-pickle', p));
  assert.equal(existsSync(marker), false);
});

test('truncated files, wrong file types and empty files give typed errors naming the file', () => {
  const good = join(dir, 'good.pt');
  const size = writeTorchCheckpointFile(good, sample(), { wrap: 'ema' });
  const bytes = readFileSync(good);
  for (const cut of [0, 10, 100, Math.floor(size / 2), size - 30, size - 1]) {
    const p = join(dir, `cut-${cut}.pt`);
    writeFileSync(p, bytes.subarray(0, cut));
    assert.throws(() => { for (const t of openCheckpointFile(p).values()) t.read(); }, isCkptErr(undefined, p), `cut at ${cut}`);
  }
  const png = join(dir, 'image.pt');
  writeFileSync(png, Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]));
  assert.throws(() => openCheckpointFile(png), (e: unknown) => isCkptErr('bad-format')(e) && (e as Error).message.includes(png));
  const txt = join(dir, 'notes.safetensors');
  writeFileSync(txt, 'hello, this is text\n');
  assert.throws(() => openCheckpointFile(txt), isCkptErr('bad-format'));
  assert.throws(() => openCheckpointFile(join(dir, 'missing.pt')), isCkptErr('bad-format'));
});

test('inspect CLI: lists tensors; a bad file gives one line and a non-zero exit', () => {
  const good = join(dir, 'inspect.pt');
  writeTorchCheckpointFile(good, sample(), { wrap: 'ema' });
  const ok = runNpmCli('inspect', [good]);
  assert.equal(ok.status, 0, ok.stderr);
  assert.match(ok.stdout, /^conv\.weight\tfloat32\t\[2, 1, 2, 2\]$/m);
  assert.match(ok.stdout, /^5 tensors, 18 values, 74 bytes$/m);
  const evil = join(dir, 'evil-cli.pt');
  writeTorchZipFile(evil, evilPickle('os', 'system', join(dir, 'pwned2')), []);
  const png = join(dir, 'image2.pt');
  writeFileSync(png, Buffer.from([0x89, 0x50, 0x4e, 0x47]));
  for (const bad of [evil, png]) {
    const r = runNpmCli('inspect', [bad]);
    assert.notEqual(r.status, 0);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
  }
});

/** A safetensors file with a hand-written header (offsets as given) over `dataBytes` bytes of data. */
function stFile(name: string, header: Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>, dataBytes: number): string {
  const json = Buffer.from(JSON.stringify(header));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  const p = join(dir, name);
  writeFileSync(p, Buffer.concat([len, json, Buffer.alloc(dataBytes)]));
  return p;
}

test('safetensors layout rules: tensors tile the data area exactly, in order, without overlaps or holes', () => {
  const t = (a: number, b: number) => ({ dtype: 'F32', shape: [(b - a) / 4], data_offsets: [a, b] as [number, number] });
  // Valid, with the header listing tensors out of offset order and a zero-length tensor.
  const ok = stFile('ok.safetensors', { b: t(8, 16), a: t(0, 8), e: t(16, 16) }, 16);
  assert.deepEqual([...openCheckpointFile(ok).keys()].sort(), ['a', 'b', 'e']);
  const overlap = stFile('overlap.safetensors', { a: t(0, 8), b: t(4, 12), c: t(12, 16) }, 16);
  assert.throws(() => openCheckpointFile(overlap), (e: unknown) => isCkptErr('bad-layout', overlap)(e) && /"b" overlaps "a"/.test((e as Error).message));
  // Two tensors sharing the same bytes (aliasing) is an overlap too.
  const alias = stFile('alias.safetensors', { a: t(0, 8), b: t(0, 8) }, 8);
  assert.throws(() => openCheckpointFile(alias), isCkptErr('bad-layout', alias));
  const hole = stFile('hole.safetensors', { a: t(0, 8), b: t(12, 20) }, 20);
  assert.throws(() => openCheckpointFile(hole), (e: unknown) => isCkptErr('bad-layout', hole)(e) && /"b" leaves a hole/.test((e as Error).message));
  const leading = stFile('leading.safetensors', { a: t(4, 12) }, 12);
  assert.throws(() => openCheckpointFile(leading), isCkptErr('bad-layout', leading));
  const trailing = stFile('trailing.safetensors', { a: t(0, 8) }, 12);
  assert.throws(() => openCheckpointFile(trailing), (e: unknown) => isCkptErr('bad-layout', trailing)(e) && /4 bytes after the last tensor/.test((e as Error).message));
  // Byte count inconsistent with dtype × shape, and a header length beyond the file.
  const size = stFile('size.safetensors', { a: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, 8);
  assert.throws(() => openCheckpointFile(size), isCkptErr('bad-format', size));
  const huge = join(dir, 'huge-header.safetensors');
  const b = Buffer.alloc(16);
  b.writeBigUInt64LE(2n ** 40n);
  writeFileSync(huge, b);
  assert.throws(() => openCheckpointFile(huge), isCkptErr('bad-format', huge));
});
