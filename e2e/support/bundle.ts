// Bundle a DOM-free engine module for a test page (esbuild, in memory). Lets browser tests exercise
// engine code directly, without test hooks in the production app.
import { buildSync } from 'esbuild';

export function bundleForPage(entry: string, globalName: string): string {
  const out = buildSync({ entryPoints: [entry], bundle: true, format: 'iife', globalName, write: false, platform: 'browser', target: 'es2022', external: ['onnxruntime-web', 'onnxruntime-web/webgpu', 'onnxruntime-node'] });
  return out.outputFiles[0]!.text;
}
