// npm run --silent inspect -- <checkpoint>
// Lists the tensors of a .pt / .safetensors file: name, dtype, shape; then a summary line.
// A malformed or unsafe file exits non-zero with one line (no stack trace).
import { DTYPE_BYTES, numel } from '../tensor.ts';
import { runCli } from './cli-util.ts';
import { openCheckpointFile } from './node-io.ts';

const USAGE = `usage: npm run --silent inspect -- <checkpoint>

Lists the tensors of a .pt / .bin (torch zip) or .safetensors file: name, dtype, shape; then a
summary line. A malformed or unsafe file exits non-zero with one line.`;

runCli({ usage: USAGE, maxPositional: 1 }, async ({ positional: [path] }) => {
  if (!path) throw new Error('a checkpoint path is required (see --help)');
  const sd = openCheckpointFile(path);
  let params = 0;
  let bytes = 0;
  const lines: string[] = [];
  for (const name of [...sd.keys()].sort()) {
    const t = sd.get(name)!;
    params += numel(t.shape);
    bytes += numel(t.shape) * DTYPE_BYTES[t.dtype];
    lines.push(`${name}\t${t.dtype}\t[${t.shape.join(', ')}]`);
  }
  process.stdout.write(`${lines.join('\n')}\n${sd.size} tensors, ${params} values, ${bytes} bytes\n`);
});
