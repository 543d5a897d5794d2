// Runs that a reload, a closed tab or a crash interrupted: while a run goes on, its request and how
// far it got sit in localStorage (written synchronously, so nothing depends on the page getting time
// to save when it goes away) with a heartbeat; a later page load that finds the marker of a run no
// longer going on records it in History as interrupted (src/app/history.ts), then forgets the marker.
import type { Phase, ProgressInfo, RequestBody, Stage } from '../protocol.ts';
import { fraction } from './eta.ts';
import { beatIsLive, keepBeating, tabId } from './tab-beat.ts';

/** How far a run got: its stage and phase, and the share of that phase done (0–100). */
export interface RunProgress { stage?: Stage; stageIndex?: number; stageCount?: number; phase: Phase; step: number; total: number; percent: number }

export interface RunMarker { runId: string; request: RequestBody; startedAt: number; beat: number; progress?: RunProgress }

const RUNNING = 'lavie.running.';
/** Interrupted runs as an earlier version listed them (before they became History entries). */
const OLD_LIST = 'lavie.interrupted';
/** Progress is written at most this often (and whenever the phase changes, and when the page goes). */
const PROGRESS_MS = 1_000;

const safe = <T>(fn: () => T, fallback: T): T => {
  try {
    return fn();
  } catch {
    return fallback;
  }
};

export const runProgress = (p: ProgressInfo): RunProgress => ({
  ...(p.stage ? { stage: p.stage } : {}), ...(p.stageIndex ? { stageIndex: p.stageIndex, stageCount: p.stageCount } : {}),
  phase: p.phase, step: p.step, total: p.total, percent: Math.round(fraction(p) * 100),
});

export interface RunMark {
  /** The run got this far (kept for the History entry if the page goes now). */
  progress(p: ProgressInfo): void;
  /** The run ended (finished, cancelled or failed: not interrupted). */
  end(): void;
}

/** Mark a run as going on until `end()`. */
export function markRunning(runId: string, request: RequestBody): RunMark {
  const key = RUNNING + safe(tabId, 'tab');
  const startedAt = Date.now();
  let progress: RunProgress | undefined;
  let written = 0;
  const write = () => {
    written = Date.now();
    const m: RunMarker = { runId, request, startedAt, beat: written, ...(progress ? { progress } : {}) };
    safe(() => localStorage.setItem(key, JSON.stringify(m)), undefined);
  };
  write();
  // The heartbeat; when the page goes (a reload, a closed tab) the marker gets the latest progress.
  const stop = keepBeating(write);
  return {
    progress(p) {
      const next = runProgress(p);
      const phaseChanged = next.phase !== progress?.phase || next.stage !== progress?.stage;
      progress = next;
      if (phaseChanged || Date.now() - written >= PROGRESS_MS) write();
    },
    end() {
      stop();
      safe(() => localStorage.removeItem(key), undefined);
    },
  };
}

const isMarker = (m: unknown): m is Omit<RunMarker, 'runId'> & { runId?: unknown } =>
  !!m && typeof m === 'object' && !!(m as RunMarker).request && typeof (m as RunMarker).request.prompt === 'string';

/** Runs no longer going on (this tab's from before its reload; another tab's once it stopped beating),
 * each with `forget`, to call once the run is recorded in History. */
export function findInterrupted(now = Date.now()): { marker: RunMarker; forget(): void }[] {
  return safe(() => {
    const found: { marker: RunMarker; forget(): void }[] = [];
    const mine = RUNNING + tabId();
    for (let i = localStorage.length - 1; i >= 0; i--) {
      const key = localStorage.key(i);
      if (!key?.startsWith(RUNNING)) continue;
      const m = safe(() => JSON.parse(localStorage.getItem(key) ?? 'null') as unknown, null);
      const forget = () => safe(() => localStorage.removeItem(key), undefined);
      if (!isMarker(m)) {
        forget();
        continue;
      }
      if (key !== mine && beatIsLive(m.beat, now)) continue;
      const startedAt = typeof m.startedAt === 'number' ? m.startedAt : now;
      // Markers written before runs had ids get one from where and when they ran (stable across loads).
      const runId = typeof m.runId === 'string' ? m.runId : `${key}:${startedAt}`;
      found.push({ marker: { ...m, runId, startedAt, beat: typeof m.beat === 'number' ? m.beat : now }, forget });
    }
    // The list an earlier version kept: its runs become History entries too.
    const old = safe(() => JSON.parse(localStorage.getItem(OLD_LIST) ?? '[]') as unknown, []);
    if (Array.isArray(old)) {
      for (const r of old as unknown[]) {
        const o = r as { id?: unknown; startedAt?: unknown; interruptedAt?: unknown };
        if (!isMarker(r) || typeof o.id !== 'string') continue;
        const id = o.id;
        const startedAt = typeof o.startedAt === 'number' ? o.startedAt : now;
        found.push({
          marker: { runId: id, request: r.request, startedAt, beat: typeof o.interruptedAt === 'number' ? o.interruptedAt : startedAt },
          forget: () => safe(() => {
            // What could not be read goes too: it would never become an entry.
            const rest = (JSON.parse(localStorage.getItem(OLD_LIST) ?? '[]') as { id?: unknown }[]).filter((x) => isMarker(x) && x.id !== id);
            if (rest.length) localStorage.setItem(OLD_LIST, JSON.stringify(rest));
            else localStorage.removeItem(OLD_LIST);
          }, undefined),
        });
      }
    }
    return found;
  }, []);
}
