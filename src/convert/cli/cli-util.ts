// Shared CLI plumbing: a failure prints one line (the typed error's message), never a stack trace.
import { CheckpointError } from '../errors.ts';

export function runCli(usage: string, main: (args: string[]) => Promise<void>): void {
  main(process.argv.slice(2)).then(
    () => process.exit(0),
    (e: unknown) => {
      const msg = e instanceof CheckpointError ? `error [${e.reason}]: ${e.message}` : `error: ${e instanceof Error ? e.message : String(e)}`;
      process.stderr.write(`${msg.split('\n')[0]}\n`);
      if (process.env.LAVIE_DEBUG && e instanceof Error) process.stderr.write(`${e.stack}\n(usage: ${usage})\n`);
      process.exit(1);
    },
  );
}
