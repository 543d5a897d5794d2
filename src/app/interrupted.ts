// Runs that a reload, a closed tab or a crash interrupted: while a run goes on, its request sits in
// localStorage (written synchronously, so nothing depends on the page getting time to save when it
// goes away) with a heartbeat; a later page load that finds it records the run as interrupted.
import type { RequestBody } from '../protocol.ts';

export interface InterruptedRun { id: string; request: RequestBody; startedAt: number; interruptedAt: number }

const RUNNING = 'lavie.running.';
const LIST = 'lavie.interrupted';
/** A run whose page has not beaten for this long is gone (another tab's live run beats more often). */
const STALE_MS = 20_000;
const BEAT_MS = 5_000;
const KEEP = 20;

/** This tab's id: kept by a reload (sessionStorage), new in another tab. */
function tabId(): string {
  let id = sessionStorage.getItem('lavie.tab');
  if (!id) sessionStorage.setItem('lavie.tab', (id = crypto.randomUUID()));
  return id;
}

const safe = <T>(fn: () => T, fallback: T): T => {
  try {
    return fn();
  } catch {
    return fallback;
  }
};

/** Mark a run as going on; the returned function ends it (finished, cancelled or failed: not interrupted). */
export function markRunning(request: RequestBody): () => void {
  const key = RUNNING + safe(tabId, 'tab');
  const startedAt = Date.now();
  const beat = () => safe(() => localStorage.setItem(key, JSON.stringify({ request, startedAt, beat: Date.now() })), undefined);
  beat();
  const timer = setInterval(beat, BEAT_MS);
  return () => {
    clearInterval(timer);
    safe(() => localStorage.removeItem(key), undefined);
  };
}

/** Interrupted runs, newest first; first moves runs that are no longer going on into the list. */
export function collectInterrupted(now = Date.now()): InterruptedRun[] {
  return safe(() => {
    const list = listInterrupted();
    const mine = RUNNING + tabId();
    for (let i = localStorage.length - 1; i >= 0; i--) {
      const key = localStorage.key(i);
      if (!key?.startsWith(RUNNING)) continue;
      const m = JSON.parse(localStorage.getItem(key) ?? 'null') as { request?: RequestBody; startedAt?: number; beat?: number } | null;
      // This tab's own marker is from before its reload; another tab's only when it stopped beating.
      if (key !== mine && m?.beat && now - m.beat < STALE_MS) continue;
      localStorage.removeItem(key);
      if (m?.request && typeof m.request.prompt === 'string') list.unshift({ id: crypto.randomUUID(), request: m.request, startedAt: m.startedAt ?? now, interruptedAt: m.beat ?? now });
    }
    const kept = list.sort((a, b) => b.startedAt - a.startedAt).slice(0, KEEP);
    localStorage.setItem(LIST, JSON.stringify(kept));
    return kept;
  }, []);
}

export function listInterrupted(): InterruptedRun[] {
  return safe(() => {
    const v = JSON.parse(localStorage.getItem(LIST) ?? '[]') as unknown;
    return Array.isArray(v) ? (v as InterruptedRun[]).filter((r) => r && typeof r.id === 'string' && r.request && typeof r.request.prompt === 'string') : [];
  }, []);
}

export function forgetInterrupted(id: string): InterruptedRun[] {
  const kept = listInterrupted().filter((r) => r.id !== id);
  safe(() => localStorage.setItem(LIST, JSON.stringify(kept)), undefined);
  return kept;
}
