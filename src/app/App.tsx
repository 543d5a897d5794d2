import { useEffect, useRef } from 'react';
import { ErrorPanel } from './components/ErrorPanel.tsx';
import { HistoryPanel } from './components/HistoryPanel.tsx';
import { ModelLabel } from './components/ModelLabel.tsx';
import { UndoDelete } from './components/UndoDelete.tsx';
import { OutputPanel } from './components/Output.tsx';
import { PackPanel } from './components/PackPanel.tsx';
import { PersonalizePanel } from './components/PersonalizePanel.tsx';
import { PromptForm } from './components/PromptForm.tsx';
import { QueuePanel } from './components/QueuePanel.tsx';
import { StoragePanel } from './components/StoragePanel.tsx';
import { useApp } from './state.ts';

export function App() {
  const status = useApp((s) => s.status);
  const outRef = useRef<HTMLDivElement>(null);

  useEffect(() => {
    void useApp.getState().loadHistory();
  }, []);

  // A reload or a closed tab would end the run: the browser asks first.
  useEffect(() => {
    if (status !== 'generating') return;
    const ask = (e: BeforeUnloadEvent) => {
      e.preventDefault();
      e.returnValue = ''; // older browsers ask only with a returnValue
    };
    window.addEventListener('beforeunload', ask);
    return () => window.removeEventListener('beforeunload', ask);
  }, [status]);

  // On a phone the output sits below the form: bring it into view when something happens there.
  useEffect(() => {
    const el = outRef.current;
    if (!el || (status !== 'generating' && status !== 'error' && status !== 'done')) return;
    if (el.getBoundingClientRect().top > window.innerHeight - 120) el.scrollIntoView({ block: 'start', behavior: 'smooth' });
  }, [status]);

  return (
    <div className="page">
      <header className="top">
        <h1>LaVie Web</h1>
        <p className="tagline">Text-to-video that runs entirely in your browser, on your GPU. Nothing is uploaded.</p>
        <ModelLabel />
      </header>
      {/* The prompt first, in reading order and on every width; what the model is and where it is
          stored come after the output. */}
      <main className="layout">
        <div className="area-form"><PromptForm /></div>
        <div className="area-out col" ref={outRef}>
          <ErrorPanel />
          <OutputPanel />
          <QueuePanel />
          <UndoDelete />
          <HistoryPanel />
        </div>
        <div className="area-pack col"><PackPanel /><StoragePanel /><PersonalizePanel /></div>
      </main>
      <footer className="foot">
        <p>LaVie (Wang et al., 2023) cascaded latent diffusion · onnxruntime-web on WebGPU · video by WebCodecs + mediabunny</p>
      </footer>
    </div>
  );
}
