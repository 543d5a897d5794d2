import react from '@vitejs/plugin-react';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { defineConfig, type Plugin } from 'vite';
import { contentSecurityPolicy } from './scripts/csp.ts';
import { serviceWorker } from './scripts/vite-plugin-sw.ts';
import { defaultDemoPack } from './src/packs/sources/builtin.ts';

// Cross-origin isolation (COOP same-origin + COEP require-corp) lets onnxruntime-web's wasm backend use
// threads (SharedArrayBuffer). Every subresource must then be same-origin or CORS/CORP-enabled: packs
// hosted elsewhere must be served with CORS.
const isolation = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

const csp = contentSecurityPolicy();

// The built-in pack: LaVie-nano once `npm run setup` built it from the trained bundle, else the tiny one.
const builtinPack = defaultDemoPack((d) => existsSync(resolve(import.meta.dirname, 'public', 'packs', d, 'manifest.json')), process.env.VITE_BUILTIN_PACK);

/** CSP per page: the embed view may be framed by its allowed origins, the app by nobody else. */
function securityHeaders(): Plugin {
  const pick = (url = '') => (url.startsWith('/embed') ? csp.embed : csp.app);
  return {
    name: 'lavie-security-headers',
    configurePreviewServer(server) {
      server.middlewares.use((req, res, next) => {
        res.setHeader('Content-Security-Policy', pick(req.url));
        next();
      });
    },
    generateBundle() {
      // Static hosts that read _headers (Netlify, Cloudflare Pages) get the same headers.
      const h = (path: string, policy: string) => `${path}\n  Content-Security-Policy: ${policy}\n  Cross-Origin-Opener-Policy: same-origin\n  Cross-Origin-Embedder-Policy: require-corp\n`;
      this.emitFile({ type: 'asset', fileName: '_headers', source: `${h('/*', csp.app)}${h('/embed/*', csp.embed)}` });
    },
  };
}

export default defineConfig({
  plugins: [react(), serviceWorker(), securityHeaders()],
  define: { 'import.meta.env.VITE_BUILTIN_PACK': JSON.stringify(builtinPack) },
  worker: { format: 'es' },
  // ORT-web finds its .mjs/.wasm next to its own script; pre-bundling would move it away from them.
  // transformers.js imports the same ORT: pre-bundling it would inline a second copy (two GPUDevices).
  optimizeDeps: { exclude: ['onnxruntime-web', 'onnxruntime-web/webgpu', '@huggingface/transformers'] },
  build: {
    target: 'es2022',
    // The ORT wasm binaries are large by nature; don't warn about them.
    chunkSizeWarningLimit: 4096,
    // The app, and the embeddable generator served at /embed/.
    rollupOptions: { input: { app: resolve(import.meta.dirname, 'index.html'), embed: resolve(import.meta.dirname, 'embed/index.html') } },
  },
  server: { headers: isolation },
  preview: { headers: isolation },
});
