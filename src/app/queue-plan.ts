// What "Add to queue" adds: the form's request once per seed (the form's seed first, then new ones),
// and with "one prompt per line" once per line of the prompt. Every request passes the request
// contract's one validation (src/protocol/request.ts) before it is queued.
import { randomSeed, validateRequest, type ErrorInfo, type RequestBody } from '../protocol.ts';

/** Most videos one queue holds (each may take minutes): enough for a batch, few enough to see at once. */
export const QUEUE_MAX = 24;

export interface QueueChoice {
  /** Videos per prompt, each with its own seed. */
  seeds: number;
  /** Each non-empty line of the prompt is a prompt of its own. */
  perLine: boolean;
}

/** The requests to queue, in the order they run, or the first one that breaks the contract (or the queue's size). */
export function queueRequests(base: RequestBody, choice: QueueChoice, room: number = QUEUE_MAX, seed: () => number = randomSeed): { ok: true; requests: RequestBody[] } | { ok: false; error: ErrorInfo } {
  const seeds = Math.floor(choice.seeds);
  if (!Number.isFinite(seeds) || seeds < 1 || seeds > QUEUE_MAX) {
    return { ok: false, error: { code: 'bad-request', field: 'seed', message: `Seeds per prompt must be a whole number from 1 to ${QUEUE_MAX}.`, recoverable: true } };
  }
  const prompts = choice.perLine ? base.prompt.split('\n').map((l) => l.trim()).filter(Boolean) : [base.prompt];
  const requests: RequestBody[] = [];
  for (const prompt of prompts) {
    for (let i = 0; i < seeds; i++) requests.push({ ...base, prompt, seed: i === 0 ? base.seed : seed() });
  }
  if (requests.length > room) {
    return { ok: false, error: { code: 'bad-request', message: `That is ${requests.length} videos; the queue has room for ${room} more (at most ${QUEUE_MAX}).`, recoverable: true } };
  }
  for (const r of requests) {
    const bad = validateRequest(r, undefined, { needsId: false });
    if (bad) return { ok: false, error: bad.toInfo() };
  }
  return { ok: true, requests };
}

/** The waiting videos, kept across reloads (the running one is not: a reload makes it an interrupted History entry). */
const SAVED = 'lavie.queue';

type KeyValue = Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>;

export function saveWaiting(requests: readonly RequestBody[], storage: KeyValue = localStorage): void {
  try {
    if (requests.length) storage.setItem(SAVED, JSON.stringify(requests));
    else storage.removeItem(SAVED);
  } catch {
    // no storage: the queue lives as long as the page
  }
}

/** The waiting videos saved by an earlier page, each checked through the request contract (others are dropped). */
export function restoreWaiting(storage: KeyValue = localStorage): RequestBody[] {
  try {
    const v = JSON.parse(storage.getItem(SAVED) ?? '[]') as unknown;
    if (!Array.isArray(v)) return [];
    return v.filter((r): r is RequestBody => !!r && typeof r === 'object' && !validateRequest(r as RequestBody, undefined, { needsId: false })).slice(0, QUEUE_MAX);
  } catch {
    return [];
  }
}
