// Builds src/sw/service-worker.ts into /sw.js and writes into it the list of files to precache:
// every emitted asset and chunk (incl. ORT's .wasm/.mjs) and the public files of the app shell —
// never the model packs under public/packs/.
import { createHash } from 'node:crypto';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { Plugin } from 'vite';

function publicFiles(dir: string, root = dir): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    const rel = relative(root, p).split('\\').join('/');
    if (rel === 'packs' || rel.startsWith('packs/')) return [];
    return statSync(p).isDirectory() ? publicFiles(p, root) : [rel];
  });
}

export function serviceWorker(): Plugin {
  let publicDir = 'public';
  return {
    name: 'lavie-service-worker',
    apply: 'build',
    // After Vite's HTML plugin, so the pages are in the bundle too.
    enforce: 'post',
    configResolved(c) {
      publicDir = c.publicDir;
    },
    buildStart() {
      if (this.environment?.name && this.environment.name !== 'client') return;
      this.emitFile({ type: 'chunk', id: 'src/sw/service-worker.ts', fileName: 'sw.js' });
    },
    generateBundle(_opts, bundle) {
      const sw = bundle['sw.js'];
      if (!sw || sw.type !== 'chunk') return;
      const files = Object.keys(bundle).filter((f) => f !== 'sw.js' && f !== '_headers' && !f.endsWith('.map'));
      const shell = [...files, ...publicFiles(publicDir)].filter((f) => !/(^|\/)embed-example\.(html|js)$/.test(f)).sort();
      const precache = shell.map((f) => (f.endsWith('index.html') ? f.replace(/index\.html$/, '') || './' : f));
      const version = createHash('sha256').update(shell.join('\n')).update(files.map((f) => { const o = bundle[f]!; return o.type === 'chunk' ? o.code : String(o.source.length); }).join('')).digest('hex').slice(0, 12);
      // Both the directory URL and index.html: navigations ask for the former, the fallback for the latter.
      const list = [...new Set([...precache, ...shell.filter((f) => f.endsWith('index.html'))])];
      sw.code = sw.code.replace(/__PRECACHE__/g, JSON.stringify(list)).replace(/__VERSION__/g, JSON.stringify(version));
    },
  };
}
