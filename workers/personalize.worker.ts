// The personalize worker: applies LoRAs or a fine-tuned checkpoint to a pack in this browser's storage (src/packs/personalize-stored.ts,
// the converter's merge code) off the page's thread, with progress and cancel. OPFS writes use sync
// access handles here, as downloads do in the engine worker; a checkpoint is read in place through
// FileReaderSync, tensor by tensor (a 4 GB file is never loaded whole).
import { personalizeStoredPack, type PersonalizeEvent, type PersonalizeRequest } from '../src/packs/personalize-stored.ts';
import { defaultStore } from '../src/packs/storage/browser-default.ts';
import { blobSource } from './blob-source.ts';
import { toErrorInfo } from '../src/protocol/errors.ts';

const scope = self as unknown as DedicatedWorkerGlobalScope;
const post = (ev: PersonalizeEvent) => scope.postMessage(ev);
const running = new Map<string, AbortController>();


async function start(r: Extract<PersonalizeRequest, { type: 'start' }>): Promise<void> {
  const ac = new AbortController();
  running.set(r.id, ac);
  try {
    const loras = await Promise.all(r.loras.map(async (l) => ({ name: l.name, multiplier: l.multiplier, bytes: new Uint8Array(await l.file.arrayBuffer()) })));
    const c = r.checkpoint;
    const checkpoint = c ? { name: c.file.name, source: blobSource(c.file), mode: c.mode, ...(c.sdBase ? { sdBase: { name: c.sdBase.name, source: blobSource(c.sdBase) } } : {}) } : undefined;
    const out = await personalizeStoredPack(defaultStore(), r.baseKey, { loras, ...(checkpoint ? { checkpoint } : {}) }, { skipUnmatched: r.skipUnmatched, signal: ac.signal, onProgress: (progress) => post({ type: 'progress', id: r.id, progress }) });
    post({ type: 'done', id: r.id, key: out.key, name: out.manifest.name, lines: out.lines, writtenBytes: out.writtenBytes });
  } catch (e) {
    post({ type: 'error', id: r.id, error: toErrorInfo(e) });
  } finally {
    running.delete(r.id);
  }
}

scope.addEventListener('message', (e: MessageEvent<PersonalizeRequest>) => {
  const r = e.data;
  if (r.type === 'start') void start(r);
  else if (r.type === 'cancel') running.get(r.id)?.abort();
});
