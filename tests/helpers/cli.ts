// Run one of the project's npm CLIs exactly as a user would.
import { spawn, spawnSync } from 'node:child_process';
import { REPO_ROOT } from './fixtures.ts';

export function runNpmCli(script: string, args: string[], timeoutMs = 600_000): { status: number; stdout: string; stderr: string } {
  const r = spawnSync('npm', ['run', '--silent', script, '--', ...args], { cwd: REPO_ROOT, encoding: 'utf8', timeout: timeoutMs, env: { ...process.env, npm_config_loglevel: 'error' } });
  // A CLI that did not exit by itself (killed at the timeout, or never started) has no status: that
  // is a failure of the test, never an "expected non-zero exit".
  if (r.status === null) throw new Error(`npm run ${script} did not exit by itself (${r.error?.message ?? r.signal})`);
  return { status: r.status, stdout: r.stdout, stderr: r.stderr.split('\n').filter((l) => !l.startsWith('npm warn')).join('\n') };
}

/** The same, without blocking this process (when the test itself serves what the CLI fetches). */
export function runNpmCliAsync(script: string, args: string[], timeoutMs = 600_000): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn('npm', ['run', '--silent', script, '--', ...args], { cwd: REPO_ROOT, env: { ...process.env, npm_config_loglevel: 'error' }, timeout: timeoutMs });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (status) => resolve({ status, stdout, stderr: stderr.split('\n').filter((l) => !l.startsWith('npm warn')).join('\n') }));
  });
}
