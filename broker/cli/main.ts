// `gregor <command> …`: the CLI's entry. Each command module is imported only when named, and none of them
// imports the broker, so `gregor` without a command starts as fast as before.
import { EXIT_FAILED, EXIT_USAGE, type Io, UsageError } from './common.ts';

export const COMMANDS = ['topics', 'produce', 'consume', 'groups', 'configs', 'acls', 'cluster'] as const;

export const HELP = `usage: gregor <command> [args] --bootstrap-server HOST:PORT
Commands (each takes --help), talking the Kafka protocol to gregor or any Kafka cluster:
  topics    list, create, describe, alter (partitions, configs), delete
  produce   records from stdin or a file, a line each (keys, headers, partitioner, compression, acks)
  consume   from a group or from offsets/timestamps, kcat-style --format or --json
  groups    list, describe (members, assignments, lag), reset-offsets, delete
  configs   describe, alter (topics, brokers)
  cluster   describe (cluster id, controller, brokers)
  acls      list (needs a broker with an authorizer)
Without a command, gregor starts a broker (gregor --help for its options).
Exit codes: 0 done, 1 the operation failed, 2 a usage mistake.`;

function defaultIo(): Io {
  // `gregor consume … | head`: the reader is gone, which is not a failure.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => { if (e.code === 'EPIPE') process.exit(0); throw e; });
  return {
    out: (s) => { process.stdout.write(s); },
    err: (s) => { process.stderr.write(s); },
    stdin: process.stdin,
    drain: () => (process.stdout.writableNeedDrain ? new Promise((r) => process.stdout.once('drain', r)) : Promise.resolve()),
  };
}

/** Runs one command; resolves to its exit code (never throws for a usage or Kafka error). */
export async function run(argv: string[], io: Io = defaultIo()): Promise<number> {
  const [cmd, ...args] = argv;
  if (cmd === 'help' || cmd === undefined) { io.out(HELP + '\n'); return cmd === undefined ? EXIT_USAGE : 0; }
  if (!(COMMANDS as readonly string[]).includes(cmd)) { io.err(`gregor: unknown command ${cmd}\n${HELP}\n`); return EXIT_USAGE; }
  const mod = await import(`./${cmd}.ts`) as { run(args: string[], io: Io): Promise<number>; HELP: string };
  try {
    return await mod.run(args, io);
  } catch (e) {
    if (e instanceof UsageError) { io.err(`gregor ${cmd}: ${e.message}\n${mod.HELP}\n`); return EXIT_USAGE; }
    io.err(`gregor ${cmd}: ${(e as Error).message}\n`);
    return EXIT_FAILED;
  }
}

/** Imports every command module (gregor.js --fill-compile-cache). */
export async function loadAllCommands(): Promise<void> {
  for (const cmd of COMMANDS) await import(`./${cmd}.ts`);
}

export async function main(argv: string[]): Promise<void> {
  const code = await run(argv);
  // Let stdout drain (a pipe) before exiting.
  process.stdout.write('', () => process.exit(code));
}
