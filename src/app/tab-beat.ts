// Which tab owns what it keeps in localStorage (a running generation's marker, src/app/interrupted.ts;
// the queue's waiting videos, src/app/queue-plan.ts): every tab has an id, kept by a reload and new in
// another (or a duplicated) tab, and writes a heartbeat beside what it owns; another tab treats it as the owner's until
// the beats stop for STALE_MS (the tab was closed, or crashed), then takes it over.

/** An owner that has not beaten for this long is gone. A live tab beats every BEAT_MS, but a tab hidden
 * for minutes gets its timers once a minute (Chrome's intensive throttling) and one step can take longer
 * than that: a shorter limit would take over another tab's live run or queue. */
export const STALE_MS = 90_000;
export const BEAT_MS = 5_000;

type Session = Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>;

const ID = 'lavie.tab';
/** Set while a page of the tab is open, removed when it goes (pagehide). */
const LIVE = 'lavie.tab.live';
const ids = new WeakMap<Session, string>();

/**
 * This tab's id: kept by a reload (sessionStorage), new in another tab — and in a duplicated tab, which
 * starts with a copy of the original's sessionStorage: the id is marked live there while a page of
 * the tab is open and unmarked when it goes, so a page that finds its id marked is a copy of a live
 * tab (or follows a crash) and takes a new one. One id per page, however often it is asked.
 */
export function tabId(session: Session = sessionStorage): string {
  const known = ids.get(session);
  if (known) return known;
  let id = session.getItem(ID);
  if (!id || session.getItem(LIVE) === id) session.setItem(ID, (id = crypto.randomUUID()));
  session.setItem(LIVE, id);
  ids.set(session, id);
  if (typeof addEventListener === 'function') {
    addEventListener('pagehide', () => pageGone(session));
    // Back from the back/forward cache: the page is open again.
    addEventListener('pageshow', (e) => { if ((e as PageTransitionEvent).persisted) session.setItem(LIVE, id); });
  }
  return id;
}

/** The page goes (a reload, a closed tab, the back/forward cache): its id is free for the next page of this tab. */
export function pageGone(session: Session = sessionStorage): void {
  session.removeItem(LIVE);
}

/** Whether an owner that last beat at `beat` may still be there (a missing beat: it is not). */
export const beatIsLive = (beat: unknown, now: number): boolean => typeof beat === 'number' && now - beat < STALE_MS;

/** Call `beat` every BEAT_MS and when the page goes (a reload, a closed tab) until the returned stop(). */
export function keepBeating(beat: () => void): () => void {
  const timer = setInterval(beat, BEAT_MS);
  if (typeof addEventListener === 'function') addEventListener('pagehide', beat);
  return () => {
    clearInterval(timer);
    if (typeof removeEventListener === 'function') removeEventListener('pagehide', beat);
  };
}
