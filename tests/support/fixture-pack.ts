// The official tiny fixtures (../shared/fixtures/lavie-tiny) converted into a pack in memory, and
// installed into a store as a download leaves it: the base of the personalize-an-installed-pack tests.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { memoryFolder, type PackSink } from '../../src/convert/io/bytes.ts';
import { convertOfficial, type PersonalizeInputs } from '../../src/convert/official.ts';
import type { WeightPrecision } from '../../src/convert/graphs/weights.ts';
import { packFiles, type PackManifest } from '../../src/packs/manifest.ts';
import type { PackStore } from '../../src/packs/storage/pack-store.ts';
import { fixtureDir } from '../helpers/fixtures.ts';

const read = (dir: string, f: string) => new Uint8Array(readFileSync(join(fixtureDir(dir), f)));

/** The SD base UNet of the dreambooth fixture (diffusers), path inside `dreambooth_unet`. */
export const SD14_UNET = 'sd_base/unet/diffusion_pytorch_model.safetensors';

const unetCfg = JSON.parse(readFileSync(join(fixtureDir('base_unet'), 'config.json'), 'utf8'));
/** SD-1.4 as the converter reads it: the fixtures' VAE, text encoder, tokenizer, and the dreambooth fixture's SD base UNet (add-difference subtracts it). */
export const fixtureSd14 = memoryFolder('sd', new Map<string, Uint8Array>([
  ['unet/config.json', new TextEncoder().encode(JSON.stringify({ ...unetCfg, down_block_types: unetCfg.down_block_types.map((s: string) => s.replace('3D', '2D')), up_block_types: unetCfg.up_block_types.map((s: string) => s.replace('3D', '2D')) }))],
  ['unet/diffusion_pytorch_model.safetensors', read('dreambooth_unet', SD14_UNET)],
  ['vae/config.json', read('sd_vae', 'config.json')],
  ['vae/diffusion_pytorch_model.safetensors', read('sd_vae', 'weights.safetensors')],
  ['text_encoder/config.json', read('clip_text', 'config.json')],
  ['text_encoder/model.safetensors', read('clip_text', 'weights.safetensors')],
  ...['vocab.json', 'merges.txt', 'special_tokens_map.json', 'tokenizer_config.json'].map((f) => [`tokenizer/${f}`, read('clip_tokenizer', f)] as [string, Uint8Array]),
]));

/** LaVie's base UNet (the fixture's weights) and the fixtures' LoRAs. */
export const fixtureInputs = new Map<string, Uint8Array>([
  ['weights.safetensors', read('base_unet', 'weights.safetensors')],
  ['lora.safetensors', read('lora_unet', 'lora.safetensors')],
  ['lora_te.safetensors', read('lora_clip_text', 'lora.safetensors')],
]);
export const fixtureFolder = memoryFolder('in', fixtureInputs);

/** A sink keeping the pack's files in `files` (path → bytes). */
export function memorySink(files: Map<string, Uint8Array>): PackSink {
  return {
    async create(path) {
      const chunks: Uint8Array[] = [];
      const h = createHash('sha256');
      return {
        write(c) { chunks.push(c.slice()); h.update(c); },
        close() {
          const b = Buffer.concat(chunks);
          files.set(path, new Uint8Array(b));
          return { bytes: b.byteLength, sha256: h.digest('hex') };
        },
      };
    },
    async commit() {},
    async abort() {},
  };
}

export interface MemoryPack { manifest: PackManifest; files: Map<string, Uint8Array> }

/** The fixture pack converted in memory (optionally personalized by the converter, as `--lora` / `--personalize` do). */
export async function convertFixturePack(precision: WeightPrecision, personalize?: PersonalizeInputs): Promise<MemoryPack> {
  const files = new Map<string, Uint8Array>();
  const manifest = await convertOfficial({ base: { folder: fixtureFolder, path: 'weights.safetensors' }, sd14: fixtureSd14, ...(personalize ? { personalize } : {}) }, memorySink(files), { unetPrecision: precision, textPrecision: precision, frames: 4, latent: { height: 8, width: 16 } });
  return { manifest, files };
}

/** Install a converted pack into the store as a download would (files under their sha256). */
export async function installPack(store: PackStore, key: string, p: MemoryPack): Promise<void> {
  for (const f of packFiles(p.manifest)) {
    const w = await store.writer(key, f.sha256, true);
    await w.write(p.files.get(f.path)!);
    await w.close();
    await store.commit(key, f.sha256);
  }
  await store.writeJson(key, 'manifest', p.manifest);
  await store.writeJson(key, 'info', { key, origin: 'https://example.test/pack/', name: p.manifest.name, bytes: 0, totalBytes: 0, complete: true, savedAt: 1 });
}
