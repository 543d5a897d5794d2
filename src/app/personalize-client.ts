// Runs one personalization (LoRAs or a fine-tuned checkpoint) in its own worker (workers/personalize.worker.ts) and ends the worker after.
import type { CheckpointPick, PersonalizeEvent, PersonalizeProgress, PersonalizeRequest } from '../packs/personalize-stored.ts';
import type { ErrorInfo } from '../protocol.ts';

export interface PersonalizeJob {
  done: Promise<{ key: string; name: string; lines: string[] }>;
  cancel(): void;
}

export class PersonalizeFailed extends Error {
  constructor(readonly info: ErrorInfo) {
    super(info.message);
  }
}

/** What to merge: LoRAs (with multipliers) or a fine-tuned checkpoint (with its mode). */
export type PersonalizeChoice = { loras: { name: string; file: Blob; multiplier: number }[]; skipUnmatched: boolean } | { checkpoint: CheckpointPick };

export function startPersonalize(baseKey: string, choice: PersonalizeChoice, onProgress: (p: PersonalizeProgress) => void): PersonalizeJob {
  const worker = new Worker(new URL('../../workers/personalize.worker.ts', import.meta.url), { type: 'module', name: 'lavie-personalize' });
  const id = crypto.randomUUID();
  const send = (r: PersonalizeRequest) => worker.postMessage(r);
  const done = new Promise<{ key: string; name: string; lines: string[] }>((resolve, reject) => {
    worker.onmessage = (e: MessageEvent<PersonalizeEvent>) => {
      const ev = e.data;
      if (ev.id !== id) return;
      if (ev.type === 'progress') onProgress(ev.progress);
      else if (ev.type === 'done') resolve({ key: ev.key, name: ev.name, lines: ev.lines });
      else reject(new PersonalizeFailed(ev.error as ErrorInfo));
    };
    worker.onerror = (e) => reject(new PersonalizeFailed({ code: 'internal', message: e.message || 'The personalize worker failed.', recoverable: true } as ErrorInfo));
  }).finally(() => worker.terminate());
  send('checkpoint' in choice ? { type: 'start', id, baseKey, loras: [], checkpoint: choice.checkpoint } : { type: 'start', id, baseKey, loras: choice.loras, skipUnmatched: choice.skipUnmatched });
  return { done, cancel: () => send({ type: 'cancel', id }) };
}
