// npm run --silent fixture -- <network> <fixture-dir> <out.safetensors> [--compute fp16]
// Builds <network> from the fixture folder's config.json + weights.safetensors through the
// converter, runs it on inputs.safetensors with onnxruntime-node and writes the outputs under the
// names the fixture's outputs.safetensors uses. Works for any fixture folder of that format.
// `--compute fp16` runs the fp16-compute variant instead (what adapters with shader-f16 get).
import { runCli } from './cli-util.ts';
import { FIXTURE_RUNNERS } from '../fixtures/index.ts';
import { writeSafetensorsFile } from './node-io.ts';

const RUNNERS = FIXTURE_RUNNERS;

const USAGE = `usage: npm run --silent fixture -- <network> <fixture-dir> <out.safetensors> [--compute fp16]

Builds <network> from the fixture folder's config.json + weights.safetensors, runs it on
inputs.safetensors with onnxruntime-node (weights as external data, so any size runs) and writes
the outputs under the fixture's names.

networks: ${Object.keys(RUNNERS).join(', ')}
  --compute fp32|fp16       run the fp16-compute variant (default fp32)
  -h, --help                print this help`;

runCli({ usage: USAGE, options: ['compute'], maxPositional: 3 }, async ({ positional, opts }) => {
  const compute = opts.compute ?? 'fp32';
  if (compute !== 'fp32' && compute !== 'fp16') throw new Error(`--compute: fp32 or fp16, not "${compute}"`);
  const [network, dir, out] = positional;
  if (!network || !dir || !out) throw new Error(`<network> <fixture-dir> <out> are required (see --help); networks: ${Object.keys(RUNNERS).join(', ')}`);
  const load = RUNNERS[network];
  if (!load) throw new Error(`unknown network "${network}"; known: ${Object.keys(RUNNERS).join(', ')}`);
  const { run } = await load();
  const result = await run(dir, network, { compute });
  if (result.kind === 'json') {
    const { writeFileSync } = await import('node:fs');
    writeFileSync(out, JSON.stringify(result.json));
  } else {
    writeSafetensorsFile(out, result.tensors);
  }
});
