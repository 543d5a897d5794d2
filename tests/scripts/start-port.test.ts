// `npm start` serves on the port in PORT (README): its serving half (`npm run serve`) is started
// here on a free port with a one-file build folder, and must answer there.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

const freePort = () => new Promise<number>((resolve, reject) => {
  const s = createServer().listen(0, '127.0.0.1', () => {
    const { port } = s.address() as { port: number };
    s.close(() => resolve(port));
  }).on('error', reject);
});

test('npm run serve (the second half of npm start) listens on PORT', { timeout: 90_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lavie-serve-'));
  writeFileSync(join(dir, 'index.html'), '<!doctype html><title>port test</title>');
  const port = await freePort();
  const child = spawn('npm', ['run', '--silent', 'serve', '--', '--outDir', dir, '--host', '127.0.0.1'], { env: { ...process.env, PORT: String(port) }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  try {
    let body = '';
    for (let i = 0; i < 300 && !body; i++) {
      body = await fetch(`http://127.0.0.1:${port}/`).then((r) => r.text(), () => '');
      if (!body) await new Promise((r) => setTimeout(r, 200));
      assert.equal(child.exitCode, null, `serve exited early:\n${out}`);
    }
    assert.match(body, /port test/, `nothing served on PORT=${port}:\n${out}`);
  } finally {
    process.kill(-child.pid!, 'SIGTERM'); // npm, sh and vite: the whole group we started
    rmSync(dir, { recursive: true, force: true });
  }
});
