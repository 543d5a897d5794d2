// Every CLI answers --help with its usage on stdout and exit code 0, and all of them parse their
// arguments with the one shared parser (src/convert/cli/cli-util.ts).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HelpRequested, UsageError, parseArgs } from '../../src/convert/cli/cli-util.ts';
import { runNpmCli } from '../helpers/cli.ts';

for (const cli of ['convert', 'fixture', 'inspect', 'make-tiny-pack', 'make-nano-pack', 'generate', 'eval:nano', 'bench:convert-full', 'bench:fullsize-fixture', 'bench:memory']) {
  test(`npm run ${cli} -- --help prints usage and exits 0`, () => {
    const r = runNpmCli(cli, ['--help']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^usage: npm run/);
    assert.equal(r.stderr.trim(), '');
  });
}

test('parseArgs: values, = form, switches, positionals; typed errors for bad usage', () => {
  const spec = { usage: 'usage: x', options: ['out', 'frames'], switches: ['keep'], maxPositional: 1 };
  assert.deepEqual(parseArgs(['a', '--out', 'd', '--frames=16', '--keep'], spec), { positional: ['a'], opts: { out: 'd', frames: '16', keep: 'true' }, lists: {} });
  assert.throws(() => parseArgs(['--out'], spec), (e) => e instanceof UsageError && /--out needs a value/.test(e.message));
  assert.throws(() => parseArgs(['--out', '--keep'], spec), UsageError);
  assert.throws(() => parseArgs(['--nope', '1'], spec), (e) => e instanceof UsageError && /unknown option --nope/.test(e.message));
  assert.throws(() => parseArgs(['a', 'b'], spec), (e) => e instanceof UsageError && /unexpected argument "b"/.test(e.message));
  assert.throws(() => parseArgs(['--out', 'd', '-h'], spec), HelpRequested);
});
