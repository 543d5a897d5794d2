// The Content Security Policy of the app: scripts and workers from our own origin only (plus
// WebAssembly compilation for onnxruntime-web), network access to our origin and the deployment's
// pack hosts only (VITE_PACK_HOSTS, default Hugging Face), no plugins, no foreign frames or forms.
// Sent as a header by `vite preview` and written to dist/_headers for static hosts that read that
// file (Netlify, Cloudflare Pages); elsewhere configure the server with the same string.
import { packHosts } from '../src/packs/download/hosts.ts';

export function contentSecurityPolicy(packHostList = process.env.VITE_PACK_HOSTS, embedAncestors = process.env.VITE_EMBED_ORIGINS): { app: string; embed: string } {
  const hosts = packHosts(packHostList).join(' ');
  const base = [
    "default-src 'self'",
    "script-src 'self' 'wasm-unsafe-eval'",
    "worker-src 'self' blob:",
    `connect-src 'self' blob: data: ${hosts}`,
    "img-src 'self' blob: data:",
    "media-src 'self' blob:",
    "style-src 'self' 'unsafe-inline'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
  ];
  const ancestors = (embedAncestors ?? '').split(/[\s,]+/).filter(Boolean);
  return {
    // The app itself is never framed (clickjacking); the embed view may be, by the listed origins (default any).
    app: [...base, "frame-ancestors 'self'"].join('; '),
    embed: [...base, `frame-ancestors ${ancestors.length ? ancestors.join(' ') : '*'}`].join('; '),
  };
}
