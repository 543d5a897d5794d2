import { useEffect, useRef } from 'react';
import { ErrorPanel } from './components/ErrorPanel.tsx';
import { HistoryPanel } from './components/HistoryPanel.tsx';
import { OutputPanel } from './components/Output.tsx';
import { PackPanel } from './components/PackPanel.tsx';
import { PersonalizePanel } from './components/PersonalizePanel.tsx';
import { PromptForm } from './components/PromptForm.tsx';
import { StoragePanel } from './components/StoragePanel.tsx';
import { useApp } from './state.ts';

export function App() {
  const status = useApp((s) => s.status);
  const outRef = useRef<HTMLDivElement>(null);

  useEffect(() => {
    void useApp.getState().loadHistory();
  }, []);

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
      </header>
      <main className="layout">
        <div className="area-pack col"><PackPanel /><StoragePanel /><PersonalizePanel /></div>
        <div className="area-form"><PromptForm /></div>
        <div className="area-out col" ref={outRef}>
          <ErrorPanel />
          <OutputPanel />
          <HistoryPanel />
        </div>
      </main>
      <footer className="foot">
        <p>LaVie (Wang et al., 2023) cascaded latent diffusion · onnxruntime-web on WebGPU · video by WebCodecs + mediabunny</p>
      </footer>
    </div>
  );
}
