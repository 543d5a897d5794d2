// `npm run convert -- --from-hub` against a local server that behaves like the Hub, serving
// official-format files (tiny, random weights): the pack equals the one converted from the same
// files on disk, byte for byte, for every precision; only the files the stages need are fetched,
// and cached; bad Hub answers and wrong files give one typed line and leave no pack.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { after, test } from 'node:test';
import { convertOptions } from '../../src/convert/cli/convert.ts';
import { convertFromHub } from '../../src/convert/cli/from-hub.ts';
import { dirPackSink, nodeFolder } from '../../src/convert/cli/node-io.ts';
import type { WeightPrecision } from '../../src/convert/graphs/weights.ts';
import { convertOfficial } from '../../src/convert/official.ts';
import { runNpmCliAsync } from '../helpers/cli.ts';
import { startFakeHub } from '../support/hub-server.ts';
import { TINY_LATENT_FLAG, folderFiles, writeTinyOfficialFiles } from '../support/official-files.ts';

const root = mkdtempSync(join(tmpdir(), 'from-hub-'));
const files = writeTinyOfficialFiles(root);
const hub = await startFakeHub();
after(() => hub.close());

const lavie = folderFiles(files.lavie);
// Like the real repos: more files than the conversion needs (the SD-1.4 UNet weights are 3.4 GB there).
const sd14 = folderFiles(files.sd14);
sd14.set('unet/diffusion_pytorch_model.safetensors', new Uint8Array(100_000));
sd14.set('vae/diffusion_pytorch_model.bin', new Uint8Array(1000));
sd14.set('model_index.json', new TextEncoder().encode('{}'));
hub.setRepo('YaohuiW/LaVie', lavie);
hub.setRepo('CompVis/stable-diffusion-v1-4', sd14);
hub.setRepo('stabilityai/stable-diffusion-x4-upscaler', folderFiles(files.x4));
// Revisions of the LaVie repo whose files have other names, or hold the wrong network.
hub.setRepo('YaohuiW/LaVie', new Map([['lavie_base_v2.pt', lavie.get('lavie_base.pt')!]]), 'renamed');
hub.setRepo('YaohuiW/LaVie', new Map([['lavie_base.pt', lavie.get('lavie_interpolation.pt')!]]), 'swapped');

const ALL = 'base+interp+vsr';
const flags = (p: WeightPrecision) => ['--latent', TINY_LATENT_FLAG, '--unet-precision', p, '--vae-precision', p, '--text-precision', p];

/** sha256 of every file of a pack folder. */
function packHashes(dir: string): Map<string, string> {
  return new Map(readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => {
    const p = join(e.parentPath, e.name);
    return [relative(dir, p), createHash('sha256').update(readFileSync(p)).digest('hex')];
  }));
}

/** The same files converted from disk, in-process (what `npm run convert` with paths does). */
async function localPack(p: WeightPrecision): Promise<string> {
  const out = join(root, `local-${p}`);
  const a = Object.fromEntries(flags(p).reduce<[string, string][]>((acc, v, i, l) => (i % 2 ? acc : [...acc, [v.slice(2), l[i + 1]!]]), []));
  await convertOfficial({
    base: { folder: nodeFolder(files.lavie), path: 'lavie_base.pt' },
    sd14: nodeFolder(files.sd14),
    interp: { folder: nodeFolder(files.lavie), path: 'lavie_interpolation.pt' },
    vsr: { checkpoint: { folder: nodeFolder(files.lavie), path: 'lavie_vsr.pt' }, x4: nodeFolder(files.x4), config: JSON.parse(readFileSync(files.vsrConfig, 'utf8')) },
  }, dirPackSink(out), { ...convertOptions(a), log: () => {} });
  return out;
}

const cache = join(root, 'cache');

test('--from-hub (the npm command): lists, downloads only what the stages need, converts; the pack equals the local conversion byte for byte (fp32)', async () => {
  const out = join(root, 'hub-fp32');
  const r = await runNpmCliAsync('convert', ['--from-hub', '--endpoint', hub.endpoint, '--cache', cache, '--stages', ALL, '--vsr-config', files.vsrConfig, ...flags('fp32'), '--out', out]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /to download/);
  assert.deepEqual(packHashes(out), packHashes(await localPack('fp32')));
  const fetched = hub.hits.filter((h) => h.status < 300 && h.origin === 'cdn').map((h) => h.path);
  assert.ok(fetched.includes('lavie_base.pt') && fetched.includes('vae/diffusion_pytorch_model.safetensors'));
  assert.ok(!hub.hits.some((h) => /unet\/diffusion_pytorch_model|\.bin|model_index/.test(h.path)), 'a file the conversion does not read was fetched');
  assert.ok(hub.hits.some((h) => h.origin === 'api' && h.status === 302), 'weights come through the 302 to the CDN');
});

for (const p of ['fp16', 'int8', 'int4'] as const) {
  test(`--from-hub at ${p}: every file of the pack equals the local conversion's (sha256); downloads come from the cache`, async () => {
    hub.hits.length = 0;
    const out = join(root, `hub-${p}`);
    const a = { 'from-hub': 'true', endpoint: hub.endpoint, cache, stages: ALL, 'vsr-config': files.vsrConfig, out, latent: TINY_LATENT_FLAG, 'unet-precision': p, 'vae-precision': p, 'text-precision': p };
    await convertFromHub(a, { ...convertOptions(a), log: () => {} }, () => {});
    assert.deepEqual(packHashes(out), packHashes(await localPack(p)));
    assert.deepEqual(hub.hits.filter((h) => h.origin === 'cdn' || h.path.includes('/resolve/')), [], 'cached files were fetched again');
  });
}

test('--from-hub: a cut connection resumes (Range) and the conversion completes', async () => {
  hub.hits.length = 0;
  hub.fault = { cut: { match: /lavie_base/, at: 0.5 } };
  const out = join(root, 'hub-cut');
  const a = { endpoint: hub.endpoint, cache: join(root, 'cache-cut'), stages: 'base', out, latent: TINY_LATENT_FLAG };
  await convertFromHub(a, { ...convertOptions(a), log: () => {} }, () => {});
  hub.fault = {};
  assert.ok(existsSync(join(out, 'manifest.json')));
  assert.ok(hub.hits.some((h) => h.origin === 'cdn' && h.path === 'lavie_base.pt' && h.range?.startsWith('bytes=')));
});

test('--from-hub: gated, offline, renamed files and a file holding the wrong network each give one typed line, and no pack', async () => {
  const run = async (extra: string[], name: string) => {
    const out = join(root, name);
    const r = await runNpmCliAsync('convert', ['--from-hub', '--endpoint', hub.endpoint, '--cache', join(root, `cache-${name}`), '--latent', TINY_LATENT_FLAG, '--out', out, ...extra]);
    assert.notEqual(r.status, 0);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, r.stderr);
    assert.equal(existsSync(out), false);
    assert.deepEqual(readdirSync(dirname(out)).filter((f) => f.includes(`${name}.converting`)), []);
    return lines[0]!;
  };
  hub.fault = { gated: new Set(['CompVis/stable-diffusion-v1-4']) };
  assert.match(await run([], 'gated'), /^error \[hub-gated\]: CompVis\/stable-diffusion-v1-4@main: access refused \(HTTP 401\)\. .*accept its terms/);
  hub.fault = {};
  assert.match(await run(['--endpoint', 'http://127.0.0.1:9', '--retries', '0'], 'offline'), /^error \[hub-offline\]: .*cannot reach http:\/\/127\.0\.0\.1:9/);
  assert.match(await run(['--revision', 'YaohuiW/LaVie=renamed'], 'renamed'), /^error \[hub-not-found\]: .*YaohuiW\/LaVie: lavie_base\.pt/);
  assert.match(await run(['--revision', 'YaohuiW/LaVie=swapped'], 'swapped'), /^error \[(wrong-shape|missing-key|unexpected-key)\]: YaohuiW\/LaVie@swapped\/lavie_base\.pt/);
  assert.match(await run(['--stages', 'base+nothing'], 'badstage'), /^error: --stages must be one of base, base\+interp, base\+vsr, base\+interp\+vsr/);
});
