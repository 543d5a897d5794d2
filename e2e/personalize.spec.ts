// Personalizing a stored pack in the browser: the real tiny pack is put into OPFS as a download
// leaves it, the real personalize worker merges a LoRA (kohya format, made for the demo pack's UNet)
// or a fine-tuned checkpoint (.ckpt through the restricted unpickler, add-difference) into it, the new
// pack shares the unchanged files (its own folder holds only the rewritten ones), is listed with its
// LoRA and multiplier and can be chosen, and deleting it frees only its own files. The engine is the
// fake one (loading the real tiny pack takes minutes on SwiftShader); the merge math and the engine
// reading the result are checked in Node (tests/packs/personalize-installed.test.ts).
import { expect, test, type Locator, type Page } from '@playwright/test';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tinyCheckpointCounts, tinyPackCheckpoint, tinyPackSdBase } from '../tests/support/tiny-checkpoint.ts';
import { TINY_LORA_UNET_WEIGHTS, tinyPackLora } from '../tests/support/tiny-lora.ts';
import { useFakeEngine } from './support/pages.ts';

const TIMEOUT = 2 * 60_000;

/** Store the built-in tiny pack in OPFS under `key`, laid out as src/packs/storage/opfs.ts keeps a download. */
async function storeTinyPack(page: Page, key: string): Promise<void> {
  await page.evaluate(async (key) => {
    const manifest = await (await fetch('/packs/tiny/manifest.json')).json();
    const files = new Map<string, string>();
    const walk = (v: unknown): void => {
      if (Array.isArray(v)) v.forEach(walk);
      else if (v && typeof v === 'object') {
        const o = v as Record<string, unknown>;
        if (typeof o.path === 'string' && typeof o.sha256 === 'string') files.set(o.sha256, o.path);
        else Object.values(o).forEach(walk);
      }
    };
    walk(manifest.components);
    const root = await (await navigator.storage.getDirectory()).getDirectoryHandle('lavie-packs', { create: true });
    const dir = await root.getDirectoryHandle(key, { create: true });
    const put = async (name: string, body: Blob | string) => {
      const w = await (await dir.getFileHandle(name, { create: true })).createWritable();
      await w.write(body);
      await w.close();
    };
    for (const [sha, path] of files) await put(sha, await (await fetch(`/packs/tiny/${path}`)).blob());
    await put('manifest.json', JSON.stringify(manifest));
    await put('info.json', JSON.stringify({ key, origin: 'e2e', name: manifest.name, bytes: 0, totalBytes: 0, complete: true, savedAt: 1 }));
  }, key);
}

/** File counts (verified, sha256-named) of each pack folder in OPFS. */
async function opfsFiles(page: Page): Promise<Record<string, string[]>> {
  return page.evaluate(async () => {
    type Dir = FileSystemDirectoryHandle & { entries(): AsyncIterable<[string, FileSystemHandle]> };
    const root = (await (await navigator.storage.getDirectory()).getDirectoryHandle('lavie-packs')) as Dir;
    const out: Record<string, string[]> = {};
    for await (const [name, h] of root.entries()) {
      if (h.kind !== 'directory') continue;
      out[name] = [];
      for await (const [f, g] of (h as Dir).entries()) if (g.kind === 'file' && /^[0-9a-f]{64}$/.test(f)) out[name]!.push(f);
    }
    return out;
  });
}

/** Names of unfinished (.part) files left in any pack folder in OPFS. */
async function opfsPartials(page: Page): Promise<string[]> {
  return page.evaluate(async () => {
    type Dir = FileSystemDirectoryHandle & { entries(): AsyncIterable<[string, FileSystemHandle]> };
    const root = (await (await navigator.storage.getDirectory()).getDirectoryHandle('lavie-packs')) as Dir;
    const out: string[] = [];
    for await (const [name, h] of root.entries()) {
      if (h.kind === 'directory') for await (const [f] of (h as Dir).entries()) if (f.endsWith('.part')) out.push(`${name}/${f}`);
    }
    return out;
  });
}

/** The two packs in OPFS after a personalization: the new one (fewer files, its own) and its base. */
async function basePackAndOwn(page: Page): Promise<{ before: Record<string, string[]>; own: string; base: string }> {
  const before = await opfsFiles(page);
  const keys = Object.keys(before);
  expect(keys).toHaveLength(2);
  const [own, base] = keys.sort((a, b) => before[a]!.length - before[b]!.length) as [string, string];
  return { before, own, base };
}

/** Delete the stored pack named `name` in the Storage list: its row goes, and the base keeps every file. */
async function deleteKeepsBase(page: Page, name: RegExp, row: Locator, before: Record<string, string[]>, base: string): Promise<void> {
  await page.getByRole('listitem', { name }).getByRole('button', { name: 'Delete' }).click();
  await expect(row).toHaveCount(0);
  const after = await opfsFiles(page);
  expect(Object.keys(after)).toEqual([base]);
  expect(after[base]!.sort()).toEqual(before[base]!.sort());
}

test('personalize a stored pack with a LoRA: listed with its multiplier, shared files, delete frees only its own', async ({ page }) => {
  test.setTimeout(TIMEOUT * 2);
  await useFakeEngine(page);
  await page.goto(`/?pack=${encodeURIComponent('fake:?')}`);
  await storeTinyPack(page, 'pe2etiny');
  await page.reload();
  const model = page.getByRole('region', { name: 'Model' });
  await expect(model).toContainText('fake-test-pack');
  const panel = page.getByRole('region', { name: 'Personalize' });
  await panel.getByRole('button', { name: 'Personalize LaVie tiny (test weights)' }).click();
  const lora = join(mkdtempSync(join(tmpdir(), 'lora-')), 'lora.safetensors');
  writeFileSync(lora, tinyPackLora());
  await panel.getByLabel('LoRA files (.safetensors)').setInputFiles(lora);
  await panel.getByLabel('Multiplier for lora.safetensors').fill('0.8');
  await panel.getByRole('button', { name: 'Apply LoRAs' }).click();
  await expect(panel.getByRole('status')).toContainText(`lora.safetensors (kohya, ×0.8): ${TINY_LORA_UNET_WEIGHTS} UNet and 0 text-encoder weights`, { timeout: TIMEOUT });
  const row = panel.getByRole('listitem', { name: /^Personalized pack LaVie tiny \(test weights\) \+ lora ×0\.8/ });
  await expect(row).toContainText('LoRAs: lora.safetensors ×0.8');

  const { before, own, base } = await basePackAndOwn(page);
  // Only the rewritten UNet files are its own (fp32 tiny pack: the one weight shard).
  expect(before[own]!.length).toBeGreaterThan(0);
  expect(before[own]!.length).toBeLessThanOrEqual(3);
  expect(before[base]!.length).toBeGreaterThan(10);
  expect(before[own]!.filter((f) => before[base]!.includes(f))).toEqual([]);

  // Chosen from the list, it is what the app loads (the fake engine stands in for inference).
  await row.getByRole('button', { name: 'Use' }).click();
  await expect(model.locator('dt:text-is("From") + dd')).toHaveText('stored pack "LaVie tiny (test weights) + lora ×0.8"', { timeout: TIMEOUT });
  await expect(row.getByRole('button', { name: 'In use' })).toBeDisabled();

  // Switch away, then delete the personalized pack: the base keeps every file.
  await model.getByText('Change model').click();
  await model.getByRole('button', { name: 'Use demo pack' }).click();
  await expect(model.locator('dt:text-is("From") + dd')).toHaveText('built-in demo pack', { timeout: TIMEOUT });
  await deleteKeepsBase(page, /^Stored pack LaVie tiny \(test weights\) \+ lora/, row, before, base);
});

test('personalize a stored pack with a fine-tuned checkpoint (add-difference): listed with file and mode, shared files, delete frees only its own', async ({ page }) => {
  test.setTimeout(TIMEOUT * 2);
  await useFakeEngine(page);
  await page.goto(`/?pack=${encodeURIComponent('fake:?')}`);
  await storeTinyPack(page, 'pe2etiny');
  await page.reload();
  await expect(page.getByRole('region', { name: 'Model' })).toContainText('fake-test-pack');
  const panel = page.getByRole('region', { name: 'Personalize' });
  await panel.getByRole('button', { name: 'Personalize LaVie tiny (test weights)' }).click();
  const dir = mkdtempSync(join(tmpdir(), 'ckpt-'));
  writeFileSync(join(dir, 'dreambooth.ckpt'), tinyPackCheckpoint());
  writeFileSync(join(dir, 'sd-v1-4.safetensors'), tinyPackSdBase());
  await panel.getByRole('radio', { name: 'Fine-tuned checkpoint' }).check();
  await panel.getByLabel(/^Checkpoint file/).setInputFiles(join(dir, 'dreambooth.ckpt'));
  await expect(panel).toContainText("LaVie's own fine-tuning of those layers is lost");
  const apply = panel.getByRole('button', { name: 'Apply checkpoint' });
  await panel.getByRole('radio', { name: 'Add the difference' }).check();
  await expect(panel).toContainText('needs the Stable Diffusion 1.4 file');
  await expect(apply).toBeDisabled(); // add-difference needs the SD-1.4 file
  await panel.getByLabel(/^SD-1\.4 file/).setInputFiles(join(dir, 'sd-v1-4.safetensors'));
  await apply.click();
  const { unet, text } = tinyCheckpointCounts();
  await expect(panel.getByRole('status')).toContainText(`dreambooth.ckpt: add-difference, ${unet} UNet, ${text} text-encoder and 0 VAE tensors`, { timeout: TIMEOUT });
  const row = panel.getByRole('listitem', { name: 'Personalized pack LaVie tiny (test weights) + dreambooth (add-difference)' });
  await expect(row).toContainText('Checkpoint: dreambooth.ckpt (add-difference)');

  const { before, own, base } = await basePackAndOwn(page);
  // Its own files are the rewritten UNet and text-encoder graphs/shards; everything else is the base's.
  expect(before[own]!.length).toBeGreaterThan(0);
  expect(before[own]!.length).toBeLessThan(before[base]!.length);
  expect(before[own]!.filter((f) => before[base]!.includes(f))).toEqual([]);
  expect(await opfsPartials(page)).toEqual([]); // the scratch copies are gone

  await deleteKeepsBase(page, /^Stored pack LaVie tiny \(test weights\) \+ dreambooth/, row, before, base);
});
