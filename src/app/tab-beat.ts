// Which tab owns what it keeps in localStorage (a running generation's marker, src/app/interrupted.ts;
// the queue's waiting videos, src/app/queue-plan.ts): every tab has an id, kept by a reload and new in
// another tab, and writes a heartbeat beside what it owns; another tab treats it as the owner's until
// the beats stop for STALE_MS (the tab was closed, or crashed), then takes it over.

/** An owner that has not beaten for this long is gone. A live tab beats every BEAT_MS, but a tab hidden
 * for minutes gets its timers once a minute (Chrome's intensive throttling) and one step can take longer
 * than that: a shorter limit would take over another tab's live run or queue. */
export const STALE_MS = 90_000;
export const BEAT_MS = 5_000;

type Session = Pick<Storage, 'getItem' | 'setItem'>;

/** This tab's id: kept by a reload (sessionStorage), new in another tab. */
export function tabId(session: Session = sessionStorage): string {
  let id = session.getItem('lavie.tab');
  if (!id) session.setItem('lavie.tab', (id = crypto.randomUUID()));
  return id;
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
