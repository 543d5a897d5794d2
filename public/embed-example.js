// The example host page's script (a separate file: LaVie Web's CSP, like many sites', forbids inline scripts).
// Where LaVie Web is served (here: the same server). `parent=` lists the origins allowed to drive it.
const EMBED_URL = new URL('/embed/', location.href);
EMBED_URL.searchParams.set('parent', location.origin);
const LAVIE_ORIGIN = EMBED_URL.origin;
const frame = document.getElementById('lavie');
frame.src = EMBED_URL.href;

const events = (window.lavieEvents = []);
let current = null;
const send = (msg) => frame.contentWindow.postMessage({ protocol: 'lavie-embed/1', ...msg }, LAVIE_ORIGIN);

window.addEventListener('message', (e) => {
  // Only listen to our frame, from the origin we loaded it from.
  if (e.source !== frame.contentWindow || e.origin !== LAVIE_ORIGIN || e.data?.protocol !== 'lavie-embed/1') return;
  const ev = e.data;
  events.push(ev);
  const li = document.createElement('li');
  li.textContent = ev.type + (ev.progress ? ` ${ev.progress.phase} ${ev.progress.step}/${ev.progress.total}` : '') + (ev.error ? ` ${ev.error.code}: ${ev.error.message}` : '') + (ev.meta ? ` ${ev.stage} ${ev.meta.frames} frames ${ev.meta.width}×${ev.meta.height}` : '');
  document.getElementById('log').append(li);
  if (ev.type === 'ready') document.getElementById('go').disabled = false;
  if (ev.type === 'result') document.getElementById('out').src = URL.createObjectURL(ev.video);
  if ((ev.type === 'result' && ev.final) || ev.type === 'cancelled' || (ev.type === 'error' && ev.id)) {
    current = null;
    document.getElementById('stop').disabled = true;
  }
});

document.getElementById('f').addEventListener('submit', (e) => {
  e.preventDefault();
  current = `req-${Date.now()}`;
  send({ type: 'generate', id: current, request: { prompt: document.getElementById('prompt').value, steps: 1, seed: 1 } });
  document.getElementById('stop').disabled = false;
});
document.getElementById('stop').addEventListener('click', () => current && send({ type: 'cancel', id: current }));
