// A panel that folds away: its heading is a button (aria-expanded), the choice is remembered
// (src/app/ui-prefs.ts). While folded, `folded` says in one line what is inside.
import { useId, type ReactNode } from 'react';
import { useUi, type Panel } from '../ui-prefs.ts';

export function Collapsible({ panel, title, className, folded, children, level = 2 }: { panel: Panel; title: string; className?: string; folded?: ReactNode; children: ReactNode; level?: 2 | 3 }) {
  const open = useUi((s) => s.open[panel]);
  const setOpen = useUi((s) => s.setOpen);
  const id = useId();
  const H = level === 2 ? 'h2' : 'h3';
  return (
    <section className={`${className ?? ''} collapsible${open ? ' open' : ''}`} aria-labelledby={`${id}-h`} data-panel={panel}>
      <H id={`${id}-h`} className="collapsible-heading">
        <button type="button" className="disclosure" aria-expanded={open} aria-controls={`${id}-body`} onClick={() => setOpen(panel, !open)}>
          <span className="chevron" aria-hidden="true">▸</span>{title}
        </button>
      </H>
      {!open && folded ? <p className="muted small folded">{folded}</p> : null}
      <div id={`${id}-body`} className="collapsible-body" hidden={!open}>
        {children}
      </div>
    </section>
  );
}
