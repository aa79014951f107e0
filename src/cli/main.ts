#!/usr/bin/env node
import { CliError, UsageError } from './cli-error.js';
import { packageVersion } from './package-version.js';
import { CLEANUP_USAGE, GENERATE_USAGE, MAIN_USAGE, SERVE_USAGE, USERS_USAGE, WORKER_USAGE, WORKERS_USAGE } from './usage.js';

// Start-up cost is what a command loads: this file imports nothing heavy, and each command's
// module (the database, sharp, Fastify, the AWS SDK…) is imported only when that command runs,
// so `atelier --help`, `--version` and `COMMAND --help` answer at once.

interface Command {
  /** Printed for `atelier COMMAND --help`; absent: the command answers --help itself. */
  readonly usage?: string;
  readonly run: (args: string[]) => Promise<void>;
}

const COMMANDS: Record<string, Command> = {
  serve: { usage: SERVE_USAGE, run: async (args) => (await import('./commands/serve.js')).serveCommand(args) },
  generate: { usage: GENERATE_USAGE, run: async (args) => (await import('./commands/generate.js')).generateCommand(args) },
  users: { usage: USERS_USAGE, run: async (args) => (await import('./commands/users.js')).usersCommand(args) },
  workers: { usage: WORKERS_USAGE, run: async (args) => (await import('./commands/workers.js')).workersCommand(args) },
  worker: { usage: WORKER_USAGE, run: async (args) => (await import('./commands/worker.js')).workerCommand(args) },
  cleanup: { usage: CLEANUP_USAGE, run: async (args) => (await import('./commands/cleanup.js')).cleanupCommand(args) },
  // `models pull --help` has its own, longer text.
  models: { run: async (args) => (await import('./commands/models.js')).modelsCommand(args) },
};

/** `--help` or `-h` anywhere before a `--` terminator: a value after `--` is an argument. */
function asksForHelp(args: readonly string[]): boolean {
  const end = args.indexOf('--');
  return (end === -1 ? args : args.slice(0, end)).some((arg) => arg === '--help' || arg === '-h');
}

/**
 * `atelier COMMAND …`: dispatches to the command's module, loaded on demand. Every command
 * answers `--help` with its usage (exit 0) before it does anything else — so `serve --help`
 * never starts a server and `users add --help` never creates a user named `--help`.
 *
 * @example node dist/src/cli/main.js generate "a lighthouse at dusk" --steps 20 --out ./out
 */
async function main(argv: string[]): Promise<void> {
  const [name, ...args] = argv;
  if (name === undefined || name === '--help' || name === '-h') {
    process.stdout.write(MAIN_USAGE);
    return;
  }
  if (name === '--version' || name === '-v' || name === 'version') {
    process.stdout.write(`atelier ${packageVersion()}\n`);
    return;
  }
  if (name === 'help') {
    const topic = args[0] === undefined ? undefined : COMMANDS[args[0]];
    if (topic && !topic.usage) return topic.run(['--help']);
    process.stdout.write(topic?.usage ?? MAIN_USAGE);
    return;
  }
  const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name]! : undefined;
  if (!command) throw new UsageError(`Unknown command '${name}'.\n\n${MAIN_USAGE}`);
  if (command.usage && asksForHelp(args)) {
    process.stdout.write(command.usage);
    return;
  }
  return command.run(args);
}

main(process.argv.slice(2)).catch((error: unknown) => {
  if (error instanceof UsageError || error instanceof CliError) {
    process.stderr.write(`atelier: ${error.message}\n`);
    process.exit(error instanceof UsageError ? 64 : error.exitCode);
  }
  // An AtelierError (bad configuration, a refused value) is expected too: one line, no stack.
  // Checked by name so this file need not load the error catalog.
  if (error instanceof Error && error.name === 'AtelierError') {
    process.stderr.write(`atelier: ${error.message}\n`);
    process.exit(1);
  }
  process.stderr.write(`atelier: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
