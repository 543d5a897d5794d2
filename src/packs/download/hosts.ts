// Which hosts this deployment loads model packs from. The same list goes into the Content Security
// Policy (connect-src; scripts/csp.ts) and is checked here before any fetch, so a URL outside it
// fails with a clear message instead of an opaque CSP violation (and even where the server sends
// no CSP header at all).

/** Hugging Face serves `resolve/main/` files from redirects to its CDN hosts. */
export const DEFAULT_PACK_HOSTS = ['https://huggingface.co', 'https://*.huggingface.co', 'https://*.hf.co'];

/** The deployment's list: VITE_PACK_HOSTS (comma/space separated CSP host sources) or the default. */
export function packHosts(configured: string | undefined): string[] {
  const list = (configured ?? '').split(/[\s,]+/).filter(Boolean);
  return list.length ? list : DEFAULT_PACK_HOSTS;
}

/** Does `url` match a CSP-style host source ("https://a.example", "https://*.example", "http://127.0.0.1:*")? */
export function hostMatches(url: URL, source: string): boolean {
  const m = /^(https?):\/\/(\*\.)?([^/:*]+)(?::(\d+|\*))?\/?$/.exec(source);
  if (!m) return false;
  const [, scheme, wild, host, port] = m;
  if (url.protocol !== `${scheme}:`) return false;
  const hostOk = wild ? url.hostname.endsWith(`.${host}`) : url.hostname === host;
  const urlPort = url.port || (url.protocol === 'https:' ? '443' : '80');
  const portOk = port === '*' || (port ?? (scheme === 'https' ? '443' : '80')) === urlPort;
  return hostOk && portOk;
}

/** Same-origin packs are always allowed; others must match the list. */
export function packUrlAllowed(url: string, selfOrigin: string, hosts: string[]): boolean {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return false;
  }
  return u.origin === selfOrigin || hosts.some((h) => hostMatches(u, h));
}
