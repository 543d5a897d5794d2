// History's grouping and button names (src/app/history-groups.ts), interrupted runs becoming History
// entries (src/app/interrupted.ts, history.ts), what "Add to queue" adds and the waiting videos kept
// across reloads and owned by one tab (src/app/queue-plan.ts, tab-beat.ts): no browser (a Map stands in for localStorage/sessionStorage).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { groupHistory, interruptedAt, shortPrompt } from '../../src/app/history-groups.ts';
import { interruptedEntry, type HistoryEntry, type VideoEntry } from '../../src/app/history.ts';
import { findInterrupted, markRunning } from '../../src/app/interrupted.ts';
import { QUEUE_MAX, beatWaiting, queueRequests, restoreWaiting, saveWaiting, takeGoneWaiting } from '../../src/app/queue-plan.ts';
import { BEAT_MS, STALE_MS, pageGone, tabId } from '../../src/app/tab-beat.ts';
import { LIMITS, type RequestBody, type Stage } from '../../src/protocol.ts';

const REQ: RequestBody = { prompt: 'a red ball', negativePrompt: '', seed: 7, steps: 4, guidanceScale: 7.5, sampler: 'ddim' };
let n = 0;
const entry = (stage: Stage, createdAt: number, runId?: string, request: RequestBody = REQ): HistoryEntry => ({
  id: `e${++n}`, createdAt, request, stage, runId,
  meta: { frames: 16, width: 128, height: 80, fps: 8 } as VideoEntry['meta'], video: new Blob([]),
});

test('history groups a run’s videos together, in cascade order, newest run first', () => {
  const groups = groupHistory([
    entry('vsr', 50, 'run-a'), entry('base', 10, 'run-a'), entry('interp', 30, 'run-a'),
    entry('base', 40, 'run-b'),
  ]);
  assert.deepEqual(groups.map((g) => [g.key, g.videos.map((v) => v.stage), g.newest]), [
    ['run-a', ['base', 'interp', 'vsr'], 50],
    ['run-b', ['base'], 40],
  ]);
});

test('entries saved before run ids group by their settings; a different seed is another request', () => {
  const groups = groupHistory([entry('base', 1), entry('interp', 2), entry('base', 3, undefined, { ...REQ, seed: 8 })]);
  assert.deepEqual(groups.map((g) => [g.request.seed, g.videos.map((v) => v.stage)]), [[8, ['base']], [7, ['base', 'interp']]]);
});

test('short prompts for button names: whole words, then an ellipsis', () => {
  assert.equal(shortPrompt('a red ball'), 'a red ball');
  assert.equal(shortPrompt('a red ball bouncing on a wooden floor in the sun'), 'a red ball bouncing on…');
  assert.equal(shortPrompt('x'.repeat(60)), `${'x'.repeat(24)}…`);
  assert.equal(shortPrompt('  spaced\n\nout   words  '), 'spaced out words');
});

test('the queue: one request per seed (the form’s first, then new ones), per line with perLine, in order', () => {
  let s = 100;
  const seed = () => ++s;
  const r = queueRequests({ ...REQ, prompt: 'first\n\n  second  \n' }, { seeds: 2, perLine: true }, QUEUE_MAX, seed);
  assert.ok(r.ok);
  assert.deepEqual(r.requests.map((q) => [q.prompt, q.seed]), [['first', 7], ['first', 101], ['second', 7], ['second', 102]]);
  const one = queueRequests({ ...REQ, prompt: 'a\nb' }, { seeds: 1, perLine: false });
  assert.ok(one.ok);
  assert.deepEqual(one.requests.map((q) => q.prompt), ['a\nb']);
});

test('the queue refuses what the request contract refuses, and more than it has room for', () => {
  const bad = queueRequests({ ...REQ, steps: LIMITS.steps.max + 1 }, { seeds: 1, perLine: false });
  assert.ok(!bad.ok);
  assert.equal(bad.error.code, 'bad-request');
  assert.equal(bad.error.field, 'steps');
  const long = queueRequests({ ...REQ, prompt: `ok\n${'x'.repeat(LIMITS.promptChars + 1)}` }, { seeds: 1, perLine: true });
  assert.ok(!long.ok);
  assert.equal(long.error.field, 'prompt');
  const full = queueRequests(REQ, { seeds: 3, perLine: false }, 2);
  assert.ok(!full.ok);
  assert.match(full.error.message, /room for 2 more/);
  for (const seeds of [0, QUEUE_MAX + 1, Number.NaN]) assert.ok(!queueRequests(REQ, { seeds, perLine: false }).ok, String(seeds));
});

/** A Storage over a Map (what localStorage/sessionStorage offer the app). */
class MapStorage implements Storage {
  private m = new Map<string, string>();
  get length() { return this.m.size; }
  clear() { this.m.clear(); }
  getItem(k: string) { return this.m.get(k) ?? null; }
  key(i: number) { return [...this.m.keys()][i] ?? null; }
  removeItem(k: string) { this.m.delete(k); }
  setItem(k: string, v: string) { this.m.set(k, String(v)); }
}
const g = globalThis as unknown as { localStorage: Storage; sessionStorage: Storage };

test('a run the page’s going interrupted becomes one History entry, with how far it got, grouped with its run’s videos', () => {
  g.localStorage = new MapStorage();
  g.sessionStorage = new MapStorage();
  const run = markRunning('run-x', { ...REQ, superResolve: true });
  run.progress({ stage: 'vsr', stageIndex: 2, stageCount: 2, phase: 'denoise', step: 3, total: 10, elapsedMs: 1 });
  // Another tab's run that beat a minute ago (a hidden tab's timers may wait that long) is not
  // interrupted; one that stopped beating ten minutes ago is.
  const now = Date.now();
  localStorage.setItem('lavie.running.other-live', JSON.stringify({ runId: 'live', request: REQ, startedAt: now - 600_000, beat: now - 60_000 }));
  localStorage.setItem('lavie.running.other-gone', JSON.stringify({ runId: 'gone', request: REQ, startedAt: now - 900_000, beat: now - 600_000 }));
  localStorage.setItem('lavie.running.junk', '{not json');
  // (This tab's marker stands for the run before a reload: the same tab id is in sessionStorage.)
  const found = findInterrupted(now);
  assert.deepEqual(found.map((f) => f.marker.runId).sort(), ['gone', 'run-x']);
  const mine = found.find((f) => f.marker.runId === 'run-x')!.marker;
  assert.deepEqual(mine.progress, { stage: 'vsr', stageIndex: 2, stageCount: 2, phase: 'denoise', step: 3, total: 10, percent: 30 });
  assert.equal(localStorage.getItem('lavie.running.junk'), null, 'an unreadable marker is dropped');

  const e = interruptedEntry(mine);
  assert.equal(e.id, 'interrupted:run-x'); // recording it twice keeps one
  assert.equal(e.stage, 'vsr');
  assert.equal(interruptedAt(e.interrupted.progress), 'stage 2 of 2 · stopped during denoising, step 3 of 10 (30 %)');
  assert.equal(interruptedAt(undefined), 'stopped before its first step');
  const groups = groupHistory([e, entry('base', 1, 'run-x'), entry('base', 2, 'run-y')]);
  assert.deepEqual(groups.map((gr) => gr.videos.map((v) => [v.stage, !!v.interrupted])), [[['base', false], ['vsr', true]], [['base', false]]]);

  for (const f of found) f.forget();
  assert.deepEqual(findInterrupted(now).map((f) => f.marker.runId), [], 'forgotten once recorded');
  assert.ok(localStorage.getItem('lavie.running.other-live'), 'the live run is left alone');
  run.end();
  assert.equal(localStorage.length, 1);
});

test('a run that ends (finished, cancelled, failed) leaves no marker; the old "interrupted runs" list becomes entries too', () => {
  g.localStorage = new MapStorage();
  g.sessionStorage = new MapStorage();
  markRunning('run-done', REQ).end();
  assert.deepEqual(findInterrupted(), []);
  localStorage.setItem('lavie.interrupted', JSON.stringify([{ id: 'old-1', request: REQ, startedAt: 5, interruptedAt: 9 }, { id: 'bad' }]));
  const found = findInterrupted();
  assert.deepEqual(found.map((f) => [f.marker.runId, f.marker.startedAt, f.marker.beat]), [['old-1', 5, 9]]);
  found[0]!.forget();
  assert.equal(localStorage.getItem('lavie.interrupted'), null);
});

test('the queue’s waiting videos are kept across a reload, each checked through the request contract', () => {
  const store = new MapStorage();
  const a = { ...REQ, seed: 1 };
  const b = { ...REQ, prompt: 'second', seed: 2, interpolate: true };
  saveWaiting([a, b], 'tab-1', store);
  assert.deepEqual(restoreWaiting('tab-1', store), [a, b]);
  store.setItem('lavie.queue.tab-1', JSON.stringify({ beat: Date.now(), requests: [a, { ...REQ, steps: LIMITS.steps.max + 1 }, 'junk', null, b] }));
  assert.deepEqual(restoreWaiting('tab-1', store), [a, b], 'what the contract refuses is dropped');
  store.setItem('lavie.queue.tab-1', '{broken');
  assert.deepEqual(restoreWaiting('tab-1', store), []);
  assert.equal(store.getItem('lavie.queue.tab-1'), null);
  saveWaiting([a], 'tab-1', store);
  saveWaiting([], 'tab-1', store);
  assert.equal(store.getItem('lavie.queue.tab-1'), null);
});

test('a queue is its tab’s: another tab takes it over only once that tab stopped beating (STALE_MS), and then only once', () => {
  const store = new MapStorage();
  const a = { ...REQ, seed: 1 };
  const b = { ...REQ, seed: 2 };
  const c = { ...REQ, seed: 3 };
  const d = { ...REQ, seed: 4 };
  const t0 = 1_000_000;
  // A page loads: its own list from before a reload, then gone tabs' (what src/app/queue.ts does).
  const load = (tab: string, now: number) => {
    const own = restoreWaiting(tab, store, now);
    return [...own, ...takeGoneWaiting(tab, QUEUE_MAX - own.length, store, now)];
  };
  saveWaiting([a, b], 'tab-A', store, t0);
  // Tab B loads while A is there (A beats): it neither gets nor removes A's videos.
  assert.deepEqual(load('tab-B', t0 + 1000), []);
  saveWaiting([d], 'tab-B', store, t0 + 2000);
  assert.deepEqual(load('tab-A', t0 + 3000), [a, b], 'A reloaded: its own list, not B’s');
  // A and B keep beating: still theirs after far more than STALE_MS since it was saved.
  beatWaiting('tab-A', store, t0 + STALE_MS);
  beatWaiting('tab-B', store, t0 + STALE_MS);
  assert.deepEqual(load('tab-C', t0 + STALE_MS + BEAT_MS), []);
  // A and B stop (closed): a page loaded STALE_MS after the last beat takes both over, its own first.
  saveWaiting([c], 'tab-C', store, t0 + 2 * STALE_MS);
  const cLoad = load('tab-C', t0 + 2 * STALE_MS + 1);
  assert.deepEqual(cLoad.map((r) => r.seed).sort(), [1, 2, 3, 4]);
  assert.equal(cLoad[0]!.seed, 3, 'its own first');
  assert.equal(store.getItem('lavie.queue.tab-A'), null);
  assert.equal(store.getItem('lavie.queue.tab-B'), null);
  // They are C's once it saves them: a fourth tab does not offer them again while C is there.
  saveWaiting(cLoad, 'tab-C', store, t0 + 2 * STALE_MS + 1);
  assert.deepEqual(load('tab-D', t0 + 2 * STALE_MS + 2), []);
  assert.equal(load('tab-C', t0 + 2 * STALE_MS + 3).length, 4);
  // The one list per site that earlier versions kept is taken over by the next page.
  store.setItem('lavie.queue', JSON.stringify([a]));
  assert.deepEqual(load('tab-D', t0 + 2 * STALE_MS + 4), [a]);
  assert.equal(store.getItem('lavie.queue'), null);
  saveWaiting([a], 'tab-D', store, t0 + 2 * STALE_MS + 4);
  // A gone tab's list that would overflow the queue stays for a later page.
  const many = Array.from({ length: QUEUE_MAX }, (_, i) => ({ ...REQ, seed: 100 + i }));
  saveWaiting(many, 'tab-E', store, t0);
  assert.deepEqual(load('tab-D', t0 + 2 * STALE_MS + 5), [a]);
  assert.deepEqual(load('tab-F', t0 + 2 * STALE_MS + 5), many);
});

test('a tab’s id: kept by a reload, new in a duplicated tab (a copy of a live tab’s sessionStorage), one per page', () => {
  const tab = new MapStorage();
  const id = tabId(tab);
  assert.equal(tabId(tab), id, 'asked again on the same page: the same id');
  // "Duplicate tab": the new tab's sessionStorage is a copy of the live original's.
  const copy = new MapStorage();
  for (const k of ['lavie.tab', 'lavie.tab.live']) copy.setItem(k, tab.getItem(k)!);
  const dup = tabId(copy);
  assert.notEqual(dup, id, 'a duplicated tab is another tab');
  // A reload: the page goes (pagehide), the next page of the tab finds its id unmarked and keeps it.
  pageGone(tab);
  const next = new MapStorage();
  next.setItem('lavie.tab', tab.getItem('lavie.tab')!);
  assert.equal(tabId(next), id);
});

test('a live page takes over the waiting videos of a tab closed meanwhile, once, and only what fits', () => {
  const store = new MapStorage();
  const t0 = 5_000_000;
  const a = { ...REQ, seed: 1 };
  const b = { ...REQ, seed: 2 };
  saveWaiting([a, b], 'tab-A', store, t0);
  saveWaiting([{ ...REQ, seed: 3 }], 'tab-B', store, t0);
  // B beats on; A closed at t0.
  assert.deepEqual(takeGoneWaiting('tab-B', QUEUE_MAX, store, t0 + BEAT_MS), [], 'A may still be there');
  beatWaiting('tab-B', store, t0 + STALE_MS);
  assert.deepEqual(takeGoneWaiting('tab-B', 1, store, t0 + STALE_MS + 1), [], 'two do not fit in room for one: left for later');
  assert.deepEqual(takeGoneWaiting('tab-B', QUEUE_MAX, store, t0 + STALE_MS + 1), [a, b]);
  assert.equal(store.getItem('lavie.queue.tab-A'), null);
  assert.deepEqual(takeGoneWaiting('tab-C', QUEUE_MAX, store, t0 + STALE_MS + 2), [], 'taken once; B’s own list is live');
});
