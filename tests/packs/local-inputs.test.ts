// Picked or dropped files → a conversion job's inputs (src/packs/local-inputs.ts): by name and path,
// by content where the name does not say (a renamed .pt by its UNet's input channels; SD-1.4 or the
// x4 upscaler by their configs), and what the chosen stages still lack as a typed error.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { bufferSource } from '../../src/convert/io/bytes.ts';
import { localInputs, missingLocal, sortPickedFiles, type PickedFile } from '../../src/packs/local-inputs.ts';
import { toErrorInfo } from '../../src/protocol/errors.ts';
import { folderFiles, writeTinyOfficialFiles } from '../support/official-files.ts';

const files = writeTinyOfficialFiles(mkdtempSync(join(tmpdir(), 'local-inputs-')));
const open = async (b: Blob) => bufferSource(new Uint8Array(await b.arrayBuffer()));
const picked = (m: Map<string, Uint8Array>, dir = '', rename: Record<string, string> = {}): PickedFile[] =>
  [...m].map(([p, d]) => ({ path: [dir, rename[p] ?? p].filter(Boolean).join('/'), file: new Blob([d as BlobPart]) }));
const lavie = folderFiles(files.lavie);
const sd14 = folderFiles(files.sd14);
const x4 = folderFiles(files.x4);

test('by name and path: the .pt files, and the SD folders however deep in what was picked', async () => {
  const s = await sortPickedFiles([...picked(lavie, 'models/lavie'), ...picked(sd14, 'models/stable-diffusion-v1-4'), ...picked(x4, 'models/stable-diffusion-x4-upscaler'), { path: 'models/README.md', file: new Blob(['x']) }], open);
  assert.deepEqual([...s.folders.lavie!.keys()].sort(), ['lavie_base.pt', 'lavie_interpolation.pt', 'lavie_vsr.pt']);
  assert.deepEqual([...s.folders.sd14!.keys()].sort(), [...sd14.keys()].sort());
  assert.deepEqual([...s.folders.x4!.keys()].sort(), [...x4.keys()].sort());
  assert.deepEqual(s.unknown, []);
  assert.deepEqual(missingLocal('base+interp+vsr', s.folders), []);
});

test('by content: renamed checkpoints by their UNet (conv_in channels), the x4 upscaler by its configs whatever its folder is called', async () => {
  const rename = { 'lavie_base.pt': 'lavie_base (1).pt', 'lavie_interpolation.pt': 'interp.pt', 'lavie_vsr.pt': 'download.pt' };
  const s = await sortPickedFiles([...picked(lavie, '', rename), ...picked(x4, 'model-a'), ...picked(sd14, 'model-b'), { path: 'other.pt', file: new Blob(['not a checkpoint']) }], open);
  for (const n of ['lavie_base.pt', 'lavie_interpolation.pt', 'lavie_vsr.pt']) {
    assert.deepEqual(new Uint8Array(await s.folders.lavie!.get(n)!.arrayBuffer()), lavie.get(n), n);
  }
  assert.equal(s.folders.x4!.size, x4.size);
  assert.equal(s.folders.sd14!.size, sd14.size);
  assert.deepEqual(s.unknown, ['other.pt']);
  assert.ok(s.found.some((f) => f === 'interp.pt (holds lavie_interpolation.pt)'), s.found.join(' | '));
});

test('what is missing for the chosen stages is a typed error naming the files and where they come from', async () => {
  const only = [...picked(lavie, '', {}).filter((f) => f.path === 'lavie_base.pt'), ...picked(new Map([...sd14].filter(([p]) => !p.startsWith('text_encoder/'))), 'stable-diffusion-v1-4'), { path: 'x.ckpt', file: new Blob(['?']) }];
  await assert.doesNotReject(localInputs('base', [...picked(lavie), ...picked(sd14, 'sd')], open));
  const e = await localInputs('base+interp+vsr', only, open).then(() => null, (err: unknown) => err);
  const info = toErrorInfo(e);
  assert.equal(info.code, 'local-files-missing');
  assert.match(info.message, /lavie_interpolation\.pt \(from huggingface\.co\/YaohuiW\/LaVie\)/);
  assert.match(info.message, /stable-diffusion-v1-4\/text_encoder\/model\.safetensors or text_encoder\/pytorch_model\.bin/);
  assert.match(info.message, /the stable-diffusion-x4-upscaler folder \(from huggingface\.co\/stabilityai\/stable-diffusion-x4-upscaler\)/);
  assert.match(info.message, /Not recognized: x\.ckpt/);
  assert.deepEqual(missingLocal('base', (await sortPickedFiles([], open)).folders).length, 2);
});
