// `npm run convert` on files laid out exactly like the official downloads (lavie_base.pt and
// lavie_interpolation.pt as torch.save zips wrapped in {"ema": …}, the SD-1.4 folder with
// diffusers configs, safetensors weights and the CLIP tokenizer), at tiny size with random weights.
// The pack it writes must load in the engine and generate; wrong inputs must fail with one typed line.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { LaVieEngine } from '../../src/engine/engine.ts';
import { createNodeRuntime } from '../../src/engine/runtime/node-runtime.ts';
import { openDirPack } from '../../src/packs/sources/node-folder.ts';
import { runNpmCli } from '../helpers/cli.ts';
import { REPO_ROOT } from '../helpers/fixtures.ts';
import { writeTorchZipFile } from '../../src/convert/cli/node-io.ts';
import { TINY_LATENT } from '../../src/convert/cli/make-tiny-pack.ts';
import { writeTinyOfficialFiles } from '../support/official-files.ts';

const root = mkdtempSync(join(tmpdir(), 'convert-cli-'));
const { sd14, x4, basePt, interpPt, vsrPt, vsrConfig } = writeTinyOfficialFiles(root);
const latent = `${TINY_LATENT.height}x${TINY_LATENT.width}`;

test('convert: official file layout → a pack the engine loads and runs (base + interpolation + super-resolution)', async () => {
  const out = join(root, 'pack');
  const r = runNpmCli('convert', ['--base', basePt, '--interp', interpPt, '--vsr', vsrPt, '--x4', x4, '--vsr-config', vsrConfig, '--sd14', sd14, '--out', out, '--latent', latent, '--unet-precision', 'fp32']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /pack "LaVie base" written/);
  const m = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'));
  assert.equal(m.testWeights, false);
  assert.equal(m.stages.interp.frames, 61);
  // Text encoders keep their weights outside the .onnx, under transformers.js's shard names.
  for (const te of [m.components.textEncoder, m.components.vsr.textEncoder]) {
    assert.deepEqual(te.externalData.map((f: { path: string }) => f.path.split('/').pop()), ['text_model.onnx_data']);
    assert.ok(te.graph.bytes < te.externalData[0].bytes, 'graph without its weights');
  }
  const engine = await LaVieEngine.load(createNodeRuntime(), openDirPack(out));
  let frames = 0;
  assert.equal(m.stages.vsr.width, 4 * m.stages.base.width);
  await engine.generate({ id: 'c', prompt: 'a cat', negativePrompt: '', seed: 1, steps: 1, guidanceScale: 7.5, sampler: 'ddim', interpolate: true }, { signal: new AbortController().signal, onProgress: () => {}, onFrame: () => { frames++; } });
  assert.equal(frames, 16 + 61);
  frames = 0;
  await engine.generate({ id: 'd', prompt: 'a cat', negativePrompt: '', seed: 1, steps: 1, guidanceScale: 7.5, sampler: 'ddim', superResolve: true }, { signal: new AbortController().signal, onProgress: () => {}, onFrame: () => { frames++; } });
  assert.equal(frames, 16 + 16);
  await engine.dispose();
});

test('convert: a checkpoint for another network fails with one typed line naming the file', () => {
  // The interpolation UNet handed over as the base UNet: conv_in has 8 input channels, not 4.
  const r = runNpmCli('convert', ['--base', interpPt, '--sd14', sd14, '--out', join(root, 'bad1'), '--latent', latent]);
  assert.notEqual(r.status, 0);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0]!, /^error \[(wrong-shape|missing-key|unexpected-key)\]: .*lavie_interpolation\.pt/);
});

test('convert: a pickle that calls a non-allow-listed global is refused, never run', () => {
  const evil = join(root, 'evil.pt');
  // A zip whose data.pkl is `os.system("touch PWNED")` via GLOBAL + REDUCE.
  const pkl = Buffer.concat([Buffer.from([0x80, 0x02]), Buffer.from('cos\nsystem\n'), Buffer.from([0x58]), Buffer.from(Uint32Array.of(10).buffer), Buffer.from('touch PWND'), Buffer.from([0x85, 0x52, 0x2e])]);
  writeTorchZipFile(evil, new Uint8Array(pkl), []);
  const r = runNpmCli('convert', ['--base', evil, '--sd14', sd14, '--out', join(root, 'bad2'), '--latent', latent]);
  assert.notEqual(r.status, 0);
  assert.match(r.stderr.trim(), /^error \[unsafe-pickle\]: .*os\.system/);
  assert.equal(existsSync(join(REPO_ROOT, 'PWND')), false);
});

test('convert: missing SD-1.4 parts and bad flags are reported, not guessed', () => {
  const r1 = runNpmCli('convert', ['--base', basePt, '--sd14', join(root, 'nope'), '--out', join(root, 'bad3')]);
  assert.notEqual(r1.status, 0);
  assert.match(r1.stderr, /no such folder/);
  const r2 = runNpmCli('convert', ['--base', basePt, '--sd14', sd14, '--out', join(root, 'bad4'), '--unet-precision', 'fp8']);
  assert.notEqual(r2.status, 0);
  assert.match(r2.stderr, /--unet-precision must be one of fp32, fp16, int8, int4/);
});

test('convert: --vsr without --x4 is refused', () => {
  const r = runNpmCli('convert', ['--base', basePt, '--vsr', vsrPt, '--sd14', sd14, '--out', join(root, 'bad5')]);
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /--vsr and --x4 go together/);
});

test('convert: a conversion that fails half-way (after the base networks were written) leaves no pack and no temporary folder', () => {
  const out = join(root, 'half');
  // The base UNet as the VSR checkpoint: fails only once the VSR stage is reached.
  const r = runNpmCli('convert', ['--base', basePt, '--vsr', basePt, '--x4', x4, '--vsr-config', vsrConfig, '--sd14', sd14, '--out', out, '--latent', latent, '--unet-precision', 'fp32']);
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /^error \[(wrong-shape|missing-key|unexpected-key)\]: .*lavie_base\.pt/);
  assert.equal(existsSync(out), false);
  assert.deepEqual(readdirSync(root).filter((f) => f.includes('half')), []);
});

test('the converter core touches no Node API (it runs unchanged in a browser worker): only cli/ and the fixture runners may', () => {
  const core = readdirSync(join(REPO_ROOT, 'src/convert'), { recursive: true }).map(String).filter((f) => f.endsWith('.ts') && !f.startsWith('cli/') && !f.startsWith('fixtures/'));
  assert.ok(core.length > 20);
  const offenders = core.filter((f) => /from 'node:|\bBuffer\.|\bprocess\./.test(readFileSync(join(REPO_ROOT, 'src/convert', f), 'utf8')));
  assert.deepEqual(offenders, []);
});
