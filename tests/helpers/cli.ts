// Run one of the project's npm CLIs exactly as a user would.
import { spawnSync } from 'node:child_process';
import { REPO_ROOT } from './fixtures.ts';

export function runNpmCli(script: string, args: string[], timeoutMs = 600_000): { status: number; stdout: string; stderr: string } {
  const r = spawnSync('npm', ['run', '--silent', script, '--', ...args], { cwd: REPO_ROOT, encoding: 'utf8', timeout: timeoutMs, env: { ...process.env, npm_config_loglevel: 'error' } });
  // A CLI that did not exit by itself (killed at the timeout, or never started) has no status: that
  // is a failure of the test, never an "expected non-zero exit".
  if (r.status === null) throw new Error(`npm run ${script} did not exit by itself (${r.error?.message ?? r.signal})`);
  return { status: r.status, stdout: r.stdout, stderr: r.stderr.split('\n').filter((l) => !l.startsWith('npm warn')).join('\n') };
}
