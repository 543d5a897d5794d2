// The generation worker: one engine, driven by the typed protocol (src/protocol.ts).
// All logic lives in engine-host.ts; this file only binds it to the worker's message port.
import { createEngine } from './browser-engine.ts';
import type { WorkerEvent, WorkerRequest } from '../src/protocol.ts';
import { createEngineHost } from './engine-host.ts';
import { mp4Output } from './video-sink.ts';
import { toErrorInfo } from '../src/protocol/errors.ts';

const scope = self as unknown as DedicatedWorkerGlobalScope;
const post = (ev: WorkerEvent) => scope.postMessage(ev);

const host = createEngineHost(post, createEngine, mp4Output);

scope.addEventListener('message', (e: MessageEvent<WorkerRequest>) => host.handle(e.data));
scope.addEventListener('messageerror', () => post({ type: 'error', id: null, error: { code: 'bad-request', message: 'The worker could not read a message.', recoverable: true } }));
// Anything that escapes the host (a bug, or a stray rejection inside the engine) still reaches the UI.
scope.addEventListener('unhandledrejection', (e: PromiseRejectionEvent) => {
  e.preventDefault();
  post({ type: 'error', id: null, error: toErrorInfo(e.reason) });
});
