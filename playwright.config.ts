// End-to-end tests in Debian's Chromium (playwright cannot download browsers here) with WebGPU on
// SwiftShader — a CPU, so everything is slow: generous timeouts. Two workers (spec files run side by
// side; a file's own tests stay in order): a real-engine test keeps SwiftShader's GPU process at about
// one core of a 2-core machine (measured 2026-12-03: ~1.1 cores, a third of the CPU idle), so the
// fake-engine specs and the other real-engine flows fill the rest. LAVIE_E2E_WORKERS=1 for a calm run.
import { defineConfig } from '@playwright/test';

export const CHROMIUM_ARGS = [
  '--enable-unsafe-webgpu',
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

/** Chromium as a machine without WebGPU sees it (no adapter): the wasm fallback's browser. */
export const NO_WEBGPU_LAUNCH = { executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: CHROMIUM_ARGS.filter((a) => a !== '--enable-unsafe-webgpu') };

// LAVIE_E2E_PORT lets a second suite run beside another (each builds and serves its own copy).
const PORT = Number(process.env.LAVIE_E2E_PORT ?? 4173);

export default defineConfig({
  testDir: 'e2e',
  outputDir: 'e2e-artifacts/results',
  timeout: 15 * 60_000,
  expect: { timeout: 30_000 },
  fullyParallel: false,
  workers: Number(process.env.LAVIE_E2E_WORKERS ?? 2),
  retries: 0,
  reporter: [['list']],
  use: {
    browserName: 'chromium',
    baseURL: `http://localhost:${PORT}`,
    viewport: { width: 1280, height: 800 },
    screenshot: 'only-on-failure',
    trace: 'retain-on-failure',
    // The offline service worker would serve the built worker script from its cache, around the
    // routes some specs use; only the offline spec allows it.
    serviceWorkers: 'block',
    launchOptions: { executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: CHROMIUM_ARGS },
  },
  webServer: {
    // `npm run build` first generates the tiny demo pack (`npm run setup`). LAVIE_E2E_BUILT=1 serves the
    // dist/ an earlier run of this config built (.ci/run's @slow pass after npm test: one build per run).
    command: `${process.env.LAVIE_E2E_BUILT ? 'test -f dist/index.html' : 'npm run build'} && npx vite preview --port ${PORT} --strictPort`,
    url: `http://localhost:${PORT}`,
    timeout: 15 * 60_000,
    reuseExistingServer: !process.env.CI,
    // The delivery specs serve packs from 127.0.0.1 (any port): allow it in the CSP and the pack-host check.
    // The demo pack gets one long-video length (32 frames), not all twelve: the specs that load it
    // download and verify every file of it.
    // The tests' built-in pack is the tiny one (the official fixtures' shapes; a trained nano pack, when
    // setup built one, is checked by its own tests).
    env: { VITE_PACK_HOSTS: 'http://127.0.0.1:*', LAVIE_DEMO_LONG_FRAMES: '32', VITE_BUILTIN_PACK: 'tiny' },
    stdout: 'pipe',
    stderr: 'pipe',
  },
});
