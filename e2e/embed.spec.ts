// The embeddable generator driven by the example host page over postMessage: a video comes back as
// a Blob; messages from a foreign origin are ignored; a page not on the allow-list gets nothing.
// The embed's own worker runs the fake engine (the production host, video encoder and MP4): the
// real engine's runs are app.spec's, and a real one here cost ~1.5 min of npm test's budget.
import { expect, test } from '@playwright/test';
import { useFakeEngine } from './support/pages.ts';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPackServer } from '../tests/support/pack-server.ts';

const TIMEOUT = 20 * 60_000;
type Ev = { type: string; id?: string | null; final?: boolean; stage?: string; meta?: { frames: number; width: number; height: number }; videoBytes?: number; videoType?: string; progress?: { phase: string } };

test.setTimeout(TIMEOUT);

test('embed example: generate through postMessage, get progress and an MP4 Blob; a foreign-origin message is ignored', async ({ page, baseURL }) => {
  await useFakeEngine(page);
  await page.goto('/embed-example.html');
  const events = (): Promise<Ev[]> => page.evaluate(() => (window as unknown as { lavieEvents: { type: string; id?: string; final?: boolean; stage?: string; meta?: unknown; video?: Blob; progress?: unknown }[] }).lavieEvents.map((e) => ({ ...e, video: undefined, videoBytes: e.video?.size, videoType: e.video?.type }))) as Promise<Ev[]>;
  await expect.poll(async () => (await events()).some((e) => e.type === 'ready'), { timeout: TIMEOUT }).toBe(true);

  // A frame with an opaque (foreign) origin posts a well-formed request to the embed: ignored.
  await page.evaluate(() => {
    const f = document.createElement('iframe');
    f.src = `data:text/html,<script>parent.frames[0].postMessage({protocol:'lavie-embed/1',type:'generate',id:'evil',request:{prompt:'x',steps:1}},'*')</script>`;
    document.body.append(f);
  });
  // From the allowed parent itself: a message with an old protocol tag is ignored; a request with a field
  // outside the request contract is refused with a bad-request error naming the field, and does not run.
  await page.evaluate((origin) => {
    const w = (document.getElementById('lavie') as HTMLIFrameElement).contentWindow!;
    w.postMessage({ protocol: 'lavie-embed/0', type: 'generate', id: 'old', request: { prompt: 'x' } }, origin);
    w.postMessage({ protocol: 'lavie-embed/1', type: 'generate', id: 'bad', request: { prompt: 'x', steps: 1e9 } }, origin);
  }, new URL(baseURL!).origin);
  await expect.poll(async () => (await events()).some((e) => e.id === 'bad'), { timeout: TIMEOUT }).toBe(true);
  const bad = (await events()).filter((e) => e.id === 'bad') as unknown as { type: string; error: { code: string; field?: string } }[];
  expect(bad.map((e) => [e.type, e.error.code, e.error.field])).toEqual([['error', 'bad-request', 'steps']]);
  await page.waitForTimeout(3000);
  expect((await events()).filter((e) => e.id === 'evil' || e.id === 'old')).toEqual([]);
  await expect(page.frameLocator('#lavie').locator('[data-state="ready"]')).toBeVisible();

  await page.getByRole('button', { name: 'Generate' }).click();
  await expect.poll(async () => (await events()).some((e) => (e.type === 'result' && e.final) || (e.type === 'error' && e.id && e.id !== 'bad')), { timeout: TIMEOUT }).toBe(true);
  const evs = await events();
  const err = evs.find((e) => e.type === 'error' && e.id !== 'bad');
  expect(err, JSON.stringify(err)).toBeUndefined();
  const progress = evs.filter((e) => e.type === 'progress');
  expect(progress.length).toBeGreaterThan(2);
  expect(progress.some((e) => e.progress?.phase === 'denoise')).toBe(true);
  const result = evs.find((e) => e.type === 'result' && e.final)!;
  expect(result.meta).toMatchObject({ frames: 16 });
  expect(result.videoBytes).toBeGreaterThan(1000);
  expect(result.videoType).toBe('video/mp4');
  // Every event of the generation carries the host's own id.
  expect(new Set(evs.filter((e) => e.id && e.id !== 'bad').map((e) => e.id)).size).toBe(1);
});

test('a page that is not on the allow-list cannot drive the embed', async ({ page, baseURL }) => {
  // A host on another origin (127.0.0.1) frames the embed with an allow-list naming only the app's origin.
  const dir = mkdtempSync(join(tmpdir(), 'foreign-host-'));
  const appOrigin = new URL(baseURL!).origin;
  writeFileSync(join(dir, 'index.html'), `<!doctype html><iframe id="f" src="${appOrigin}/embed/?parent=${encodeURIComponent(appOrigin)}"></iframe>
<script>window.got=[];addEventListener('message',e=>window.got.push(e.data));</script>`);
  const foreign = await startPackServer(dir);
  try {
    await page.goto(foreign.url);
    const frame = page.frameLocator('#f');
    await expect(frame.locator('[data-state="refused"]')).toBeVisible({ timeout: 60_000 });
    await page.evaluate(() => (document.getElementById('f') as HTMLIFrameElement).contentWindow!.postMessage({ protocol: 'lavie-embed/1', type: 'generate', id: 'x', request: { prompt: 'x', steps: 1 } }, '*'));
    await page.waitForTimeout(3000);
    expect(await page.evaluate(() => (window as unknown as { got: unknown[] }).got)).toEqual([]);
  } finally {
    await foreign.close();
  }
});
