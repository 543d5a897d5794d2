// History as a gallery: the saved videos of one request (its base, smoother and high-resolution
// videos) shown together, and the short names that tell one item's buttons from another's.
import { stagesOf, type Stage } from '../protocol.ts';
import { PHASE_LABEL } from './format.ts';
import type { HistoryEntry } from './history.ts';
import type { RunProgress } from './interrupted.ts';

export interface HistoryGroup {
  /** The run's id (entries saved before runs had one: their request's settings). */
  key: string;
  /** The request as typed (every video of the group shares it). */
  request: HistoryEntry['request'];
  /** Its videos in cascade order (base first). */
  videos: HistoryEntry[];
  /** The newest video's time: groups are listed newest first. */
  newest: number;
}

/** Entries saved before run ids existed group by the settings that made them. */
const legacyKey = (e: HistoryEntry) => {
  const r = e.request;
  return `req:${JSON.stringify([r.prompt, r.negativePrompt, r.seed, r.steps, r.guidanceScale, r.sampler, !!r.interpolate, !!r.superResolve, r.frames ?? null])}`;
};

const ORDER: readonly Stage[] = stagesOf({ interpolate: true, superResolve: true });

/** Group saved videos by the run that made them, newest run first, each run's videos in cascade order. */
export function groupHistory(entries: readonly HistoryEntry[]): HistoryGroup[] {
  const groups = new Map<string, HistoryGroup>();
  for (const e of entries) {
    const key = e.runId ?? legacyKey(e);
    const g = groups.get(key);
    if (g) {
      g.videos.push(e);
      g.newest = Math.max(g.newest, e.createdAt);
    } else {
      groups.set(key, { key, request: e.request, videos: [e], newest: e.createdAt });
    }
  }
  const out = [...groups.values()];
  for (const g of out) g.videos.sort((a, b) => ORDER.indexOf(a.stage) - ORDER.indexOf(b.stage) || a.createdAt - b.createdAt);
  return out.sort((a, b) => b.newest - a.newest);
}

/** A prompt short enough for a button's name: whole words up to `max` characters, then "…". */
export function shortPrompt(prompt: string, max = 24): string {
  const p = prompt.trim().replace(/\s+/g, ' ');
  if (p.length <= max) return p;
  const cut = p.slice(0, max);
  const space = cut.lastIndexOf(' ');
  return `${(space > max / 2 ? cut.slice(0, space) : cut).replace(/[\s,.;:]+$/, '')}…`;
}

/** How far an interrupted run got, e.g. "stopped during denoising, step 12 of 40 (30 %)". */
export function interruptedAt(p: RunProgress | undefined): string {
  if (!p) return 'stopped before its first step';
  const stage = p.stageCount && p.stageCount > 1 ? `stage ${p.stageIndex} of ${p.stageCount} · ` : '';
  return `${stage}stopped during ${PHASE_LABEL[p.phase].toLowerCase()}, step ${p.step} of ${p.total} (${p.percent} %)`;
}
