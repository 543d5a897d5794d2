// Shared CLI plumbing for every command-line tool (convert, fixture, inspect, make-tiny-pack, benches):
// one argument parser, `--help`/`-h` printing the usage and exiting 0, and a failure printing one
// line (the typed error's message), never a stack trace.
import { CheckpointError } from '../errors.ts';
import { ERRORS, LaVieError } from '../../protocol/errors.ts';

export interface CliSpec {
  /** Full usage text printed by --help (first line: `usage: …`). */
  usage: string;
  /** Options taking a value (`--name value` or `--name=value`), without the dashes. */
  options?: readonly string[];
  /** Options without a value (`--keep`), without the dashes. */
  switches?: readonly string[];
  /** Value options that may repeat (`--lora a --lora b`); collected in `lists`. */
  repeatable?: readonly string[];
  /** How many positional arguments are allowed (default 0). */
  maxPositional?: number;
}

export interface CliArgs {
  positional: string[];
  /** Value options by name; switches map to 'true'. */
  opts: Record<string, string>;
  /** Every value of each repeatable option, in order. */
  lists: Record<string, string[]>;
}

/** Thrown for `--help`; runCli prints the usage and exits 0. */
export class HelpRequested extends Error {}

/** Bad command-line usage (unknown option, missing value, too many arguments). */
export class UsageError extends Error {}

export function parseArgs(argv: readonly string[], spec: CliSpec): CliArgs {
  const options = new Set(spec.options ?? []);
  const switches = new Set(spec.switches ?? []);
  const repeatable = new Set(spec.repeatable ?? []);
  const out: CliArgs = { positional: [], opts: {}, lists: {} };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--help' || a === '-h') throw new HelpRequested();
    if (a === '--') {
      out.positional.push(...argv.slice(i + 1));
      break;
    }
    if (!a.startsWith('--')) {
      out.positional.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    const name = a.slice(2, eq >= 0 ? eq : undefined);
    if (switches.has(name) && eq < 0) {
      out.opts[name] = 'true';
      continue;
    }
    if (!options.has(name) && !repeatable.has(name)) throw new UsageError(`unknown option --${name} (see --help)`);
    const v = eq >= 0 ? a.slice(eq + 1) : argv[++i];
    if (v === undefined || (eq < 0 && v.startsWith('--'))) throw new UsageError(`--${name} needs a value`);
    if (repeatable.has(name)) (out.lists[name] ??= []).push(v);
    else out.opts[name] = v;
  }
  if (out.positional.length > (spec.maxPositional ?? 0)) throw new UsageError(`unexpected argument "${out.positional[spec.maxPositional ?? 0]}" (see --help)`);
  return out;
}

export function runCli(spec: CliSpec, main: (args: CliArgs) => Promise<void>): void {
  let args: CliArgs;
  try {
    args = parseArgs(process.argv.slice(2), spec);
  } catch (e) {
    if (e instanceof HelpRequested) {
      process.stdout.write(`${spec.usage.trimEnd()}\n`);
      process.exit(0);
    }
    fail(e, spec);
  }
  main(args).then(() => process.exit(0), (e: unknown) => fail(e, spec));
}

function fail(e: unknown, spec: CliSpec): never {
  // Checkpoint errors name the rule the file broke; other typed errors say what to do next.
  const msg = e instanceof CheckpointError ? `error [${e.reason}]: ${e.message}`
    // A request outside the contract: the message names the field (the app's "next step" talks of its form).
    : e instanceof LaVieError && e.code === 'bad-request' ? `error [${e.code}]: ${e.message}`
    : e instanceof LaVieError ? `error [${e.code}]: ${e.message.replace(/\.$/, '')}. ${ERRORS[e.code].next}`
    : `error: ${e instanceof Error ? e.message : String(e)}`;
  process.stderr.write(`${msg.split('\n')[0]}\n`);
  if (process.env.LAVIE_DEBUG && e instanceof Error) process.stderr.write(`${e.stack}\n${spec.usage}\n`);
  process.exit(1);
}
