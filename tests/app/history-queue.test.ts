// History's grouping and button names (src/app/history-groups.ts) and what "Add to queue" adds
// (src/app/queue-plan.ts): pure functions, no browser.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { groupHistory, shortPrompt } from '../../src/app/history-groups.ts';
import type { HistoryEntry } from '../../src/app/history.ts';
import { QUEUE_MAX, queueRequests } from '../../src/app/queue-plan.ts';
import { LIMITS, type RequestBody, type Stage } from '../../src/protocol.ts';

const REQ: RequestBody = { prompt: 'a red ball', negativePrompt: '', seed: 7, steps: 4, guidanceScale: 7.5, sampler: 'ddim' };
let n = 0;
const entry = (stage: Stage, createdAt: number, runId?: string, request: RequestBody = REQ): HistoryEntry => ({
  id: `e${++n}`, createdAt, request, stage, runId,
  meta: { frames: 16, width: 128, height: 80, fps: 8 } as HistoryEntry['meta'], video: new Blob([]),
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
