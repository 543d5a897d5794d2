// Register the offline service worker (production builds only: the dev server has no sw.js).
export function registerServiceWorker(): void {
  if (!import.meta.env.PROD || !('serviceWorker' in navigator)) return;
  const base = import.meta.env.BASE_URL;
  navigator.serviceWorker.register(`${base}sw.js`, { scope: base }).catch((e: unknown) => {
    console.warn('offline support unavailable:', e);
  });
}
