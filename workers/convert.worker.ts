// The conversion worker: turns LaVie's official checkpoints (from the Hub, or picked local files)
// into a stored pack with the converter of `npm run convert` (src/packs/convert-official.ts does
// the work). A dedicated worker because the converter reads and writes synchronously: Blobs through
// FileReaderSync, OPFS through sync access handles.
import { runConvertJob, planHubJob, pendingJobs, discardJob, type ConvertEnv, type ConvertEvent, type ConvertJobSpec, type ConvertRequest } from '../src/packs/convert-official.ts';
import { hubEndpoint } from '../src/packs/download/hub.ts';
import { packHosts } from '../src/packs/download/hosts.ts';
import { defaultStore, storageEstimate } from '../src/packs/storage/browser-default.ts';
import { opfsScratch } from '../src/packs/storage/opfs.ts';
import { missingLocal, sortPickedFiles } from '../src/packs/local-inputs.ts';
import { memoryScratch } from '../src/packs/storage/pack-sink.ts';
import { blobSource } from './blob-source.ts';
import { toErrorInfo } from '../src/protocol/errors.ts';

const scope = self as unknown as DedicatedWorkerGlobalScope;
const post = (ev: ConvertEvent) => scope.postMessage(ev);
const running = new Map<string, AbortController>();


function env(): ConvertEnv {
  const store = defaultStore();
  return {
    store,
    scratch: (key) => (store.kind === 'opfs' ? opfsScratch(key) : memoryScratch(store, key)),
    openBlob: async (b) => blobSource(b),
    estimate: storageEstimate(),
  };
}

/** The job as run: its endpoint checked (a run-time override must be on the deployment's allow-list). */
function checked(spec: ConvertJobSpec): ConvertJobSpec {
  if (spec.source !== 'hub') return spec;
  const endpoint = hubEndpoint(spec.hub?.endpoint, import.meta.env.VITE_HUB_ENDPOINT, { selfOrigin: self.location.origin, hosts: packHosts(import.meta.env.VITE_PACK_HOSTS) });
  return { ...spec, hub: { ...spec.hub, endpoint } };
}

async function handle(r: ConvertRequest): Promise<void> {
  try {
    if (r.type === 'cancel') return void running.get(r.id)?.abort();
    if (r.type === 'pending') return post({ type: 'pending', id: r.id, jobs: await pendingJobs(defaultStore()) });
    if (r.type === 'discard') {
      await discardJob(defaultStore(), r.key);
      return post({ type: 'discarded', id: r.id });
    }
    if (r.type === 'sort') {
      const sorted = await sortPickedFiles(r.files, async (b) => blobSource(b));
      return post({ type: 'sorted', id: r.id, found: sorted.found, unknown: sorted.unknown, missing: missingLocal(r.stages, sorted.folders) });
    }
    if (r.type === 'plan') {
      const p = await planHubJob(checked(r.spec), env());
      return post({ type: 'plan', id: r.id, download: p.download, stored: p.stored, cached: p.cached, files: p.files.length });
    }
    const ac = new AbortController();
    running.set(r.id, ac);
    try {
      const out = await runConvertJob(checked(r.spec), env(), { signal: ac.signal, files: r.files, onProgress: (progress) => post({ type: 'progress', id: r.id, progress }) });
      post({ type: 'done', id: r.id, key: out.key, name: out.manifest.name });
    } finally {
      running.delete(r.id);
    }
  } catch (e) {
    post({ type: 'error', id: r.id, error: toErrorInfo(e) });
  }
}

scope.addEventListener('message', (e: MessageEvent<ConvertRequest>) => void handle(e.data));
