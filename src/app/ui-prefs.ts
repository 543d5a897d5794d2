// How the page is laid out for this visitor, remembered between visits (localStorage): which
// panels are collapsed; and requests from one part of the page to another (open the model chooser).
import { create } from 'zustand';

const KEY = 'lavie.ui';

/** Collapsible parts of the page. The Model and Storage panels start open (what is loaded is worth
 * seeing once); the Advanced settings start closed (the prompt comes first). */
export const PANEL_DEFAULT_OPEN = { model: true, storage: true, advanced: false } as const;
export type Panel = keyof typeof PANEL_DEFAULT_OPEN;

function stored(): Partial<Record<Panel, boolean>> {
  try {
    const v = JSON.parse(localStorage.getItem(KEY) ?? '{}') as unknown;
    if (!v || typeof v !== 'object') return {};
    return Object.fromEntries(Object.entries(v).filter(([k, b]) => k in PANEL_DEFAULT_OPEN && typeof b === 'boolean'));
  } catch {
    return {};
  }
}

interface UiState {
  open: Record<Panel, boolean>;
  setOpen(p: Panel, open: boolean): void;
  /** The Model panel's "Change model" chooser is open. */
  chooserOpen: boolean;
  setChooserOpen(open: boolean): void;
  /** Bumped to ask the chooser to scroll into view and take focus. */
  chooserFocus: number;
  /** Show where a model is chosen (the path to the real LaVie weights): open the panel and the chooser, focus it. */
  revealChooser(): void;
}

export const useUi = create<UiState>()((set, get) => ({
  open: { ...PANEL_DEFAULT_OPEN, ...stored() },
  setOpen(p, open) {
    set((s) => ({ open: { ...s.open, [p]: open } }));
    try {
      localStorage.setItem(KEY, JSON.stringify({ ...stored(), [p]: open }));
    } catch {
      // storage unavailable: the choice lasts for this visit
    }
  },
  chooserOpen: false,
  setChooserOpen(open) { set({ chooserOpen: open }); },
  chooserFocus: 0,
  revealChooser() {
    if (!get().open.model) get().setOpen('model', true);
    set((s) => ({ chooserOpen: true, chooserFocus: s.chooserFocus + 1 }));
  },
}));
