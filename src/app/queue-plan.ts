// What "Add to queue" adds: the form's request once per seed (the form's seed first, then new ones),
// and with "one prompt per line" once per line of the prompt. Every request passes the request
// contract's one validation (src/protocol/request.ts) before it is queued.
import { randomSeed, validateRequest, type ErrorInfo, type RequestBody } from '../protocol.ts';
import { beatIsLive } from './tab-beat.ts';

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

/** The waiting videos, kept across reloads (the running one is not: a reload makes it an interrupted
 * History entry), one list per tab (src/app/tab-beat.ts): another tab's list is its own while that tab
 * beats — a second tab neither runs nor offers it — and the next page loaded after it stopped takes it over. */
const SAVED = 'lavie.queue.';
/** The one list per site that earlier versions kept: the next page loaded takes it over. */
const OLD_SAVED = 'lavie.queue';

type KeyValue = Pick<Storage, 'getItem' | 'setItem' | 'removeItem' | 'key' | 'length'>;
interface SavedQueue { beat: number; requests: readonly RequestBody[] }

export function saveWaiting(requests: readonly RequestBody[], tab: string, storage: KeyValue = localStorage, now = Date.now()): void {
  try {
    if (requests.length) storage.setItem(SAVED + tab, JSON.stringify({ beat: now, requests } satisfies SavedQueue));
    else storage.removeItem(SAVED + tab);
  } catch {
    // no storage: the queue lives as long as the page
  }
}

/** This tab is still here: its saved list stays its own (call every BEAT_MS). */
export function beatWaiting(tab: string, storage: KeyValue = localStorage, now = Date.now()): void {
  try {
    const v = JSON.parse(storage.getItem(SAVED + tab) ?? 'null') as Partial<SavedQueue> | null;
    if (v && Array.isArray(v.requests)) storage.setItem(SAVED + tab, JSON.stringify({ ...v, beat: now }));
  } catch {
    // no storage, or a list that is not one (restoreWaiting drops it)
  }
}

/** The waiting videos this tab saved before a reload, each checked through the request contract. */
export function restoreWaiting(tab: string, storage: KeyValue = localStorage, now = Date.now()): RequestBody[] {
  try {
    const kept = readList(storage, SAVED + tab).slice(0, QUEUE_MAX);
    saveWaiting(kept, tab, storage, now);
    return kept;
  } catch {
    return [];
  }
}

/**
 * The waiting videos of tabs that are gone (no beat for STALE_MS) and of the old one-per-site list,
 * each checked through the request contract (others are dropped), up to `room` of them: removed from
 * storage (so a third tab does not offer them again) and returned — the caller keeps them as its own.
 * Lists of live tabs are left alone, and so is a gone tab's list that would not fit: a later page
 * takes it. A live page calls this at load and on its beats (a tab closed meanwhile is noticed), one
 * tab at a time (src/app/queue.ts: localStorage has no atomic update).
 */
export function takeGoneWaiting(tab: string, room: number, storage: KeyValue = localStorage, now = Date.now()): RequestBody[] {
  try {
    const own = SAVED + tab;
    const others: string[] = [];
    for (let i = 0; i < storage.length; i++) {
      const key = storage.key(i);
      if (key?.startsWith(SAVED) && key !== own) others.push(key);
    }
    const out: RequestBody[] = [];
    for (const key of [...others, OLD_SAVED]) {
      const v = read(storage, key);
      if (v === null) continue;
      if (key !== OLD_SAVED && beatIsLive((v as Partial<SavedQueue> | undefined)?.beat, now)) continue;
      const requests = valid(key === OLD_SAVED ? v : (v as Partial<SavedQueue> | undefined)?.requests);
      if (out.length + requests.length > room) continue;
      out.push(...requests);
      storage.removeItem(key);
    }
    return out;
  } catch {
    return [];
  }
}

const valid = (v: unknown): RequestBody[] => (Array.isArray(v) ? v.filter((r): r is RequestBody => !!r && typeof r === 'object' && !validateRequest(r as RequestBody, undefined, { needsId: false })) : []);
const read = (storage: KeyValue, key: string): unknown => {
  try {
    return JSON.parse(storage.getItem(key) ?? 'null') as unknown;
  } catch {
    return undefined; // not JSON: taken (dropped) with nothing in it
  }
};
const readList = (storage: KeyValue, key: string): RequestBody[] => valid((read(storage, key) as Partial<SavedQueue> | undefined)?.requests);
