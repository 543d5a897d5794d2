// The queue: several videos (seeds or prompts) run one after another through the app's one
// generate() (so each is shown, estimated and saved to History as it finishes, like any run).
// Cancel stops the running video and pauses the queue: the videos still waiting stay, to resume or remove.
// The waiting videos survive a reload too, paused (the running one becomes an interrupted History entry);
// they are this tab's: another tab does not run or offer them until this one is gone (src/app/queue-plan.ts).
// Videos added while another run goes on start when it ends.
import { create } from 'zustand';
import { randomSeed, validateRequest, type ErrorInfo, type RequestBody } from '../protocol.ts';
import { QUEUE_MAX, beatWaiting, queueRequests, restoreWaiting, saveWaiting, takeGoneWaiting, type QueueChoice } from './queue-plan.ts';
import { keepBeating, tabId } from './tab-beat.ts';
import { parseForm } from './form.ts';
import { useApp } from './state.ts';

export type QueueStatus = 'waiting' | 'running' | 'done' | 'failed' | 'cancelled';

export interface QueueItem { id: string; request: RequestBody; status: QueueStatus; error?: string }

interface QueueState {
  items: QueueItem[];
  /** The queue is taking its next waiting video whenever one finishes. */
  running: boolean;
  /** Cancel or a reload stopped the queue: its waiting videos wait for "Resume queue" (or another "Add"). */
  paused: boolean;
  /** Why the last "Add to queue" added nothing (shown beside the button). */
  problem: ErrorInfo | null;
  /** Add the form's request once per seed (and per line with perLine); starts the queue when the app is free. */
  addFromForm(choice: QueueChoice): void;
  /** Add these requests (e.g. an interrupted run's, to run it again); starts the queue when the app is free. */
  enqueue(requests: RequestBody[]): void;
  remove(id: string): void;
  /** Drop the finished, failed and cancelled videos from the list (History keeps the finished ones). */
  clearFinished(): void;
  /** Run the waiting videos, in order, until none is left or one is cancelled. */
  start(): Promise<void>;
}

const waitingItem = (request: RequestBody): QueueItem => ({ id: crypto.randomUUID(), request, status: 'waiting' });
/** How many more videos the queue takes (the waiting and running ones count). */
const roomIn = (items: readonly QueueItem[]) => QUEUE_MAX - items.filter((i) => i.status === 'waiting' || i.status === 'running').length;

const isFree = () => {
  const s = useApp.getState().status;
  return s !== 'generating' && s !== 'loading';
};

const hasStorage = typeof localStorage !== 'undefined';
/** Whose saved queue this page keeps (a page without sessionStorage keeps one of its own). */
const tab = (() => {
  try {
    return tabId();
  } catch {
    return crypto.randomUUID();
  }
})();
const restored = hasStorage ? restoreWaiting(tab).map(waitingItem) : [];
// As long as this page is open its saved waiting videos stay its own (another tab leaves them alone);
// at load and on each beat it also takes over the waiting videos of tabs that are gone (paused).
if (hasStorage) keepBeating(() => {
  beatWaiting(tab);
  adoptGone();
});

/** Take over the waiting videos of tabs that are gone, under a lock where the browser has Web Locks:
 * two tabs checking at the same moment must not both take one list. */
function adoptGone(): void {
  const take = () => {
    const q = useQueue.getState();
    if (q.running) return;
    const gone = takeGoneWaiting(tab, roomIn(q.items));
    if (gone.length) useQueue.setState((s) => ({ items: [...s.items, ...gone.map(waitingItem)], paused: true }));
  };
  const locks = typeof navigator === 'undefined' ? undefined : navigator.locks;
  if (locks) void locks.request('lavie.queue.adopt', take).catch(() => undefined);
  else take();
}

export const useQueue = create<QueueState>()((set, get) => ({
  // What was waiting when the page went: back, paused ("Resume queue").
  items: restored,
  running: false,
  paused: restored.length > 0,
  problem: null,

  addFromForm(choice) {
    const form = useApp.getState().form;
    const parsed = parseForm(form);
    const room = roomIn(get().items);
    // "New seed each run" on: no queued video reuses the seed already shown (and used) in the form.
    const planned = parsed.ok ? queueRequests(form.newSeed ? { ...parsed.request, seed: randomSeed() } : parsed.request, choice, room) : parsed;
    if (!planned.ok) return set({ problem: planned.error });
    get().enqueue(planned.requests);
  },

  enqueue(requests) {
    const room = roomIn(get().items);
    if (requests.length > room) {
      return set({ problem: { code: 'bad-request', message: `The queue has room for ${room} more (at most ${QUEUE_MAX}).`, recoverable: true } });
    }
    const bad = requests.map((r) => validateRequest(r, undefined, { needsId: false })).find(Boolean);
    if (bad) return set({ problem: bad.toInfo() });
    // Adding is asking for the queue to run: now if the app is free, else when the current run ends.
    set((s) => ({ items: [...s.items, ...requests.map(waitingItem)], problem: null, paused: false }));
    if (!get().running && isFree()) void get().start();
  },

  remove(id) {
    set((s) => ({ items: s.items.filter((i) => i.id !== id || i.status === 'running') }));
  },

  clearFinished() {
    set((s) => ({ items: s.items.filter((i) => i.status === 'waiting' || i.status === 'running') }));
  },

  async start() {
    if (get().running || !isFree()) return;
    set({ running: true, paused: false });
    const mark = (id: string, status: QueueStatus, error?: string) =>
      set((s) => ({ items: s.items.map((i) => (i.id === id ? { ...i, status, ...(error ? { error } : {}) } : i)) }));
    try {
      for (;;) {
        const next = get().items.find((i) => i.status === 'waiting');
        if (!next || !isFree()) return;
        mark(next.id, 'running');
        await useApp.getState().generate(next.request);
        const { status, error } = useApp.getState();
        if (status === 'done') mark(next.id, 'done');
        else if (status === 'error') {
          mark(next.id, 'failed', error?.message);
          if (!error?.recoverable) return set({ paused: true }); // the engine is gone: waiting videos would fail the same way
        } else {
          mark(next.id, 'cancelled');
          return set({ paused: true }); // Cancel pauses the queue
        }
      }
    } finally {
      set({ running: false });
    }
  },
}));

// Saved whenever the waiting videos change (a video that starts running leaves the saved list).
useQueue.subscribe((s, prev) => {
  if (s.items !== prev.items) saveWaiting(s.items.filter((i) => i.status === 'waiting').map((i) => i.request), tab);
});

// A run the queue did not start (Generate, a pack load) ended: videos added meanwhile start now.
useApp.subscribe((s, prev) => {
  const q = useQueue.getState();
  if (s.status !== prev.status && isFree() && !q.running && !q.paused && q.items.some((i) => i.status === 'waiting')) void q.start();
});

// Waiting videos of tabs gone before this page loaded (after the subscriptions above: they are saved as this tab's).
if (hasStorage) adoptGone();
