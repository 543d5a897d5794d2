// `npm run bench`: the same Chromium as the e2e suite, but benchmarks only, no app server.
import { defineConfig } from '@playwright/test';
import { CHROMIUM_ARGS } from '../playwright.config.ts';

export default defineConfig({
  testDir: '.',
  testMatch: /.*\.bench\.ts/,
  outputDir: '../e2e-artifacts/bench',
  timeout: 30 * 60_000,
  workers: 1,
  reporter: [['list']],
  use: { browserName: 'chromium', launchOptions: { executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', // The wide bench serves weight shards from a local HTTP server to the harness page, whose
    // playwright-routed origin Chromium does not count as loopback: allow that local fetch.
    args: [...CHROMIUM_ARGS, '--disable-features=LocalNetworkAccessChecks'] } },
});
