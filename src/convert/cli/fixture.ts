// npm run --silent fixture -- <network> <fixture-dir> <out.safetensors> [--compute fp16]
// Builds <network> from the fixture folder's config.json + weights.safetensors through the
// converter, runs it on inputs.safetensors with onnxruntime-node and writes the outputs under the
// names the fixture's outputs.safetensors uses. Works for any fixture folder of that format.
// `--compute fp16` runs the fp16-compute variant instead (what adapters with shader-f16 get).
import { runCli } from './cli-util.ts';
import { FIXTURE_RUNNERS } from '../fixtures/index.ts';
import { writeSafetensorsFile } from './node-io.ts';

const RUNNERS = FIXTURE_RUNNERS;

runCli('fixture <network> <fixture-dir> <out> [--compute fp16]', async (args) => {
  const at = args.indexOf('--compute');
  const compute = at >= 0 ? args.splice(at, 2)[1] : 'fp32';
  if (compute !== 'fp32' && compute !== 'fp16') throw new Error(`--compute: fp32 or fp16, not "${compute}"`);
  const [network, dir, out] = args;
  if (!network || !dir || !out) throw new Error(`usage: fixture <network> <fixture-dir> <out>; networks: ${Object.keys(RUNNERS).join(', ')}`);
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
