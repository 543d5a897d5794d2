// The personalize worker: applies LoRAs to a pack in this browser's storage (src/packs/personalize-stored.ts,
// the converter's merge code) off the page's thread, with progress and cancel. OPFS writes use sync
// access handles here, as downloads do in the engine worker.
import { personalizeStoredPack, type PersonalizeEvent, type PersonalizeRequest } from '../src/packs/personalize-stored.ts';
import { defaultStore } from '../src/packs/storage/browser-default.ts';
import { toErrorInfo } from '../src/protocol/errors.ts';

const scope = self as unknown as DedicatedWorkerGlobalScope;
const post = (ev: PersonalizeEvent) => scope.postMessage(ev);
const running = new Map<string, AbortController>();

async function start(r: Extract<PersonalizeRequest, { type: 'start' }>): Promise<void> {
  const ac = new AbortController();
  running.set(r.id, ac);
  try {
    const loras = await Promise.all(r.loras.map(async (l) => ({ name: l.name, multiplier: l.multiplier, bytes: new Uint8Array(await l.file.arrayBuffer()) })));
    const out = await personalizeStoredPack(defaultStore(), r.baseKey, loras, { skipUnmatched: r.skipUnmatched, signal: ac.signal, onProgress: (progress) => post({ type: 'progress', id: r.id, progress }) });
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
