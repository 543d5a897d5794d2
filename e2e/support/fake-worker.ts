// The production worker's logic (workers/engine-host.ts) bound to the fake engine. Served by the UI
// tests in place of the built engine.worker-*.js, so the real app, host, video encoder and MP4 run
// end to end without model weights.
import { createEngineHost } from '../../workers/engine-host.ts';
import { mp4Output } from '../../workers/video-sink.ts';
import { toErrorInfo } from '../../src/protocol/errors.ts';
import type { WorkerEvent, WorkerRequest } from '../../src/protocol.ts';
import { createFakeEngine } from '../../tests/support/fake-engine.ts';

const scope = self as unknown as DedicatedWorkerGlobalScope;
const post = (ev: WorkerEvent) => scope.postMessage(ev);
const host = createEngineHost(post, createFakeEngine, mp4Output);
scope.addEventListener('message', (e: MessageEvent<WorkerRequest>) => host.handle(e.data));
scope.addEventListener('unhandledrejection', (e: PromiseRejectionEvent) => {
  e.preventDefault();
  post({ type: 'error', id: null, error: toErrorInfo(e.reason) });
});
