// The offline service worker: precaches the app shell (HTML, JS, CSS, ORT's .wasm/.mjs, icons,
// manifest) at install, serves it when the network is gone, and never touches model packs — their
// files live in OPFS, downloaded and verified by the app itself (src/packs). The precache list and
// version are written in at build time by scripts/vite-plugin-sw.ts.
declare const __PRECACHE__: string[];
declare const __VERSION__: string;

// The few service-worker types used here (the project's lib is DOM; the webworker lib would clash with it).
interface ExtendableEvent extends Event { waitUntil(p: Promise<unknown>): void }
interface FetchEvent extends ExtendableEvent { readonly request: Request; respondWith(r: Response | Promise<Response>): void }
interface SwScope {
  registration: { scope: string };
  clients: { claim(): Promise<void> };
  skipWaiting(): Promise<void>;
  addEventListener(type: 'install' | 'activate', f: (e: ExtendableEvent) => void): void;
  addEventListener(type: 'fetch', f: (e: FetchEvent) => void): void;
}
const sw = self as unknown as SwScope;

const SHELL = `lavie-shell-${__VERSION__}`;
const scopeUrl = new URL(sw.registration.scope);
const precached = new Set(__PRECACHE__.map((p) => new URL(p, scopeUrl).href));

sw.addEventListener('install', (e) => {
  e.waitUntil((async () => {
    const cache = await caches.open(SHELL);
    await cache.addAll([...precached]);
    await sw.skipWaiting();
  })());
});

sw.addEventListener('activate', (e) => {
  e.waitUntil((async () => {
    for (const k of await caches.keys()) if (k.startsWith('lavie-shell-') && k !== SHELL) await caches.delete(k);
    await sw.clients.claim();
  })());
});

/** The precached page a navigation falls back to: the embed view or the app. */
function shellPageFor(url: URL): string {
  const rel = url.pathname.slice(scopeUrl.pathname.length);
  return new URL(rel.startsWith('embed') ? 'embed/index.html' : 'index.html', scopeUrl).href;
}

sw.addEventListener('fetch', (e) => {
  const req = e.request;
  const url = new URL(req.url);
  if (req.method !== 'GET' || url.origin !== scopeUrl.origin) return;
  // Packs are never cached here (they are multi-GB and go to OPFS through the app's downloader).
  if (url.pathname.startsWith(`${scopeUrl.pathname}packs/`)) return;
  if (req.mode === 'navigate') {
    // Network first, so a new deployment is picked up; the cached shell when offline.
    e.respondWith(fetch(req).catch(async () => (await caches.match(shellPageFor(url))) ?? Response.error()));
    return;
  }
  const key = url.origin + url.pathname;
  if (!precached.has(key)) return;
  // Hashed assets never change: cache first.
  e.respondWith((async () => (await caches.match(key)) ?? fetch(req))());
});

export {};
