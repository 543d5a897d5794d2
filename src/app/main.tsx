import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App.tsx';
import { rememberedFolder } from './pack-choice.ts';
import { useApp } from './state.ts';
import { registerServiceWorker } from '../sw/register.ts';
import './styles.css';

const root = document.getElementById('root');
if (!root) throw new Error('index.html has no #root');
createRoot(root).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
// Load the model pack right away (the built-in one is tiny, others come from storage after the first
// download); Generate also loads it if this failed. A remembered local folder is reopened when the
// browser still grants access, else the Model panel asks for it.
void (async () => {
  const ref = useApp.getState().packRef;
  if (ref.kind === 'local' && !ref.dir && !ref.files) {
    const dir = await rememberedFolder(false);
    if (dir) useApp.setState({ packRef: { kind: 'local', name: dir.name, dir } });
  }
  await useApp.getState().load();
})();

registerServiceWorker();
