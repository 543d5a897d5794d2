// The page's side of the conversion worker (workers/convert.worker.ts): one worker for the page,
// requests matched by id. Cancel asks the worker; the converter runs synchronously for long
// stretches, so a worker that does not answer soon is ended (the job stays recorded: it resumes).
import type { ConvertEvent, ConvertJobSpec, ConvertProgress, ConvertRequest, PendingJob } from '../packs/convert-official.ts';
import type { PickedFile } from '../packs/local-inputs.ts';
import { RemoteError, type ErrorInfo } from '../protocol/errors.ts';

type Listener = (ev: ConvertEvent) => void;

let worker: Worker | null = null;
const listeners = new Map<string, Listener>();

function port(): Worker {
  if (worker) return worker;
  const w = new Worker(new URL('../../workers/convert.worker.ts', import.meta.url), { type: 'module', name: 'lavie-convert' });
  w.onmessage = (e: MessageEvent<ConvertEvent>) => listeners.get(e.data.id)?.(e.data);
  w.onerror = (e) => {
    const error = { code: 'internal', message: e.message || 'The conversion worker failed.', recoverable: true } as const;
    for (const [id, l] of [...listeners]) l({ type: 'error', id, error });
  };
  return (worker = w);
}

function restart(): void {
  worker?.terminate();
  worker = null;
}

function ask<T>(req: ConvertRequest, pick: (ev: ConvertEvent) => T | undefined, onEvent?: Listener): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    listeners.set(req.id, (ev) => {
      if (ev.type === 'error') {
        listeners.delete(req.id);
        reject(new RemoteError(ev.error as ErrorInfo));
        return;
      }
      onEvent?.(ev);
      const v = pick(ev);
      if (v !== undefined) {
        listeners.delete(req.id);
        resolve(v);
      }
    });
    port().postMessage(req);
  });
}

export interface PlanInfo { download: number; stored: number; cached: number; files: number }

export const planConversion = (spec: ConvertJobSpec): Promise<PlanInfo> =>
  ask({ type: 'plan', id: crypto.randomUUID(), spec }, (ev) => (ev.type === 'plan' ? { download: ev.download, stored: ev.stored, cached: ev.cached, files: ev.files } : undefined));

export const pendingConversions = (): Promise<PendingJob[]> => ask({ type: 'pending', id: crypto.randomUUID() }, (ev) => (ev.type === 'pending' ? ev.jobs : undefined));

export interface SortedInfo { found: string[]; unknown: string[]; missing: string[] }

/** Which of the picked files are which (read in the worker: names, configs, checkpoint headers), and what `stages` still lack. */
export const sortLocalFiles = (stages: string, files: PickedFile[]): Promise<SortedInfo> =>
  ask({ type: 'sort', id: crypto.randomUUID(), stages, files }, (ev) => (ev.type === 'sorted' ? { found: ev.found, unknown: ev.unknown, missing: ev.missing } : undefined));

export const discardConversion = (key: string): Promise<true> => ask({ type: 'discard', id: crypto.randomUUID(), key }, (ev) => (ev.type === 'discarded' ? true : undefined));

export interface ConversionRun {
  done: Promise<{ key: string; name: string }>;
  cancel(): void;
}

/** How long a cancelled worker may take to reach a point where it can stop. */
const CANCEL_GRACE_MS = 3000;

export function startConversion(spec: ConvertJobSpec, onProgress: (p: ConvertProgress) => void, files?: PickedFile[]): ConversionRun {
  const id = crypto.randomUUID();
  let settle: ((ev: ConvertEvent) => void) | null = null;
  const done = ask({ type: 'start', id, spec, ...(files ? { files } : {}) }, (ev) => (ev.type === 'done' ? { key: ev.key, name: ev.name } : undefined), (ev) => {
    if (ev.type === 'progress') onProgress(ev.progress);
  });
  settle = (ev) => listeners.get(id)?.(ev);
  return {
    done,
    cancel() {
      port().postMessage({ type: 'cancel', id } satisfies ConvertRequest);
      setTimeout(() => {
        if (!listeners.has(id)) return;
        restart(); // busy converting: end it; the job record stays and the next start resumes
        settle?.({ type: 'error', id, error: { code: 'cancelled', message: 'Conversion cancelled. It can be resumed: downloaded files and the networks already converted are kept.', recoverable: true } });
      }, CANCEL_GRACE_MS);
    },
  };
}

/** Does this device's GPU compute in fp16 (shader-f16)? Then fp16 weights are the natural choice. */
export async function deviceHasF16(): Promise<boolean> {
  try {
    const gpu = (navigator as Navigator & { gpu?: GPU }).gpu;
    const a = await gpu?.requestAdapter();
    return !!a?.features.has('shader-f16');
  } catch {
    return false;
  }
}
